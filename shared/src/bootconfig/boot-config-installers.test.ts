// The boot config Secret with installer kinds: an Ignition config round-trips, configs published before kinds
// existed (no installer key) keep being read and hash as before, an unknown kind is not served as something else, and
// the token in an Ignition config URL never reaches an error message.
import type { KubeObject } from '../kube/index.js';
import { bootConfigHash, fromSecret, sha256Hex, toSecret, usesNoCloud, type BootConfig } from './boot-config.js';
import { IGNITION_ROUTE, ignitionConfigURL } from './ignition-url.js';
import { checkKernelArgs } from './ipxe.js';

const install = {
  installationId: 'id-1',
  revision: 2,
  attempt: 1,
  token: 'tok',
  tokenSha256: sha256Hex('tok'),
  userData: '#cloud-config\nautoinstall:\n  version: 1\n',
  metaData: 'instance-id: x\n',
  kernel: { url: 'http://b/k', sha256: 'a'.repeat(64) },
  initrd: { url: 'http://b/i', sha256: 'b'.repeat(64) },
};
const base = { mode: 'install' as const, hostName: 'node-01', hostNamespace: 'lab', hostUID: 'uid-1', mac: '52:54:00:ab:cd:01', ipxe: '#!ipxe\nboot\n' };
const decoded = (secret: KubeObject): Record<string, string> =>
  Object.fromEntries(Object.entries((secret.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

describe('boot configs of installer kinds', () => {
  it('round-trips an Ignition config without NoCloud files', () => {
    const config: BootConfig = { ...base, install: { ...install, installer: 'ignition', userData: '', metaData: '', ignition: '{"ignition":{"version":"3.3.0"}}\n' } };
    const secret = toSecret(config, 'lab');
    const data = decoded(secret);
    expect(data.installer).toBe('ignition');
    expect(data['ignition.json']).toBe('{"ignition":{"version":"3.3.0"}}\n');
    expect(Object.keys(data)).not.toContain('user-data');
    expect(Object.keys(data)).not.toContain('meta-data');
    expect(fromSecret(secret)).toEqual(config);
  });

  it('reads configs published before installer kinds existed, writing and hashing ubuntu-autoinstall ones as before', () => {
    const old: BootConfig = { ...base, install };
    const secret = toSecret(old, 'lab');
    expect(Object.keys(decoded(secret))).not.toContain('installer');
    expect(fromSecret(secret)).toEqual(old);
    // naming the default kind changes nothing that is published
    const named: BootConfig = { ...base, install: { ...install, installer: 'ubuntu-autoinstall' } };
    expect(toSecret(named, 'lab').data).toEqual(secret.data);
    expect(bootConfigHash(named)).toBe(bootConfigHash(old));
    expect(usesNoCloud(undefined)).toBe(true);
    expect(usesNoCloud('ignition')).toBe(false);
  });

  it('reads no config of an unknown kind, nor an Ignition one without its config', () => {
    const secret = toSecret({ ...base, install: { ...install, installer: 'ignition', ignition: '{}' } }, 'lab');
    const data = secret.data as Record<string, string>;
    expect(fromSecret({ ...secret, data: { ...data, installer: Buffer.from('debian-preseed').toString('base64') } })).toBeUndefined();
    const { 'ignition.json': _dropped, ...withoutConfig } = data;
    expect(fromSecret({ ...secret, data: withoutConfig })).toBeUndefined();
  });

  it('builds the Ignition config URL the boot-server route serves', () => {
    expect(ignitionConfigURL('http://10.0.0.2:8080/', '52:54:00:AB:CD:01', 'tok')).toBe('http://10.0.0.2:8080/ignition/52-54-00-ab-cd-01/tok/config.ign');
    expect(IGNITION_ROUTE).toBe('/ignition/:mac/:token/config.ign');
  });

  it('redacts the token of an Ignition config URL in kernel argument errors', () => {
    const url = ignitionConfigURL('http://10.0.0.2:8080', '52:54:00:ab:cd:01', 'SECRET-TOKEN');
    let message = '';
    try {
      checkKernelArgs(`"console=ttyS0 ignition.config.url=${url}`);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('unbalanced double quote');
    expect(message).toContain('/ignition/52-54-00-ab-cd-01/REDACTED');
    expect(message).not.toContain('SECRET-TOKEN');
  });
});
