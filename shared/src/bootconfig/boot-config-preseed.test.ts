// The boot config Secret of a debian-preseed host: the preseed file round-trips without NoCloud files, a Secret of
// that kind without its file is not served, and the token of a preseed URL never reaches an error message.
import type { KubeObject } from '../kube/index.js';
import { fromSecret, sha256Hex, toSecret, usesNoCloud, type BootConfig } from './boot-config.js';
import { checkKernelArgs } from './ipxe.js';
import { PRESEED_ROUTE, preseedURL } from './preseed-url.js';

const install = {
  installationId: 'id-1',
  revision: 2,
  attempt: 1,
  token: 'tok',
  tokenSha256: sha256Hex('tok'),
  installer: 'debian-preseed' as const,
  userData: '',
  metaData: '',
  preseed: 'd-i debian-installer/locale string en_US.UTF-8\n',
  kernel: { url: 'http://b/k', sha256: 'a'.repeat(64) },
  initrd: { url: 'http://b/i', sha256: 'b'.repeat(64) },
};
const base = { mode: 'install' as const, hostName: 'node-01', hostNamespace: 'lab', hostUID: 'uid-1', mac: '52:54:00:ab:cd:01', ipxe: '#!ipxe\nboot\n' };
const decoded = (secret: KubeObject): Record<string, string> =>
  Object.fromEntries(Object.entries((secret.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

describe('boot configs of debian-preseed hosts', () => {
  it('round-trips the preseed file without NoCloud files', () => {
    const config: BootConfig = { ...base, install };
    const secret = toSecret(config, 'lab');
    const data = decoded(secret);
    expect(data.installer).toBe('debian-preseed');
    expect(data['preseed.cfg']).toBe(install.preseed);
    expect(Object.keys(data)).not.toContain('user-data');
    expect(fromSecret(secret)).toEqual(config);
    expect(usesNoCloud('debian-preseed')).toBe(false);
  });

  it('reads no config of that kind without its file', () => {
    const { 'preseed.cfg': _dropped, ...withoutFile } = toSecret({ ...base, install }, 'lab').data as Record<string, string>;
    expect(fromSecret({ ...toSecret({ ...base, install }, 'lab'), data: withoutFile })).toBeUndefined();
  });

  it('builds the URL the boot-server route serves, and redacts its token in kernel argument errors', () => {
    const url = preseedURL('http://10.0.0.2:8080/', '52:54:00:AB:CD:01', 'SECRET-TOKEN');
    expect(url).toBe('http://10.0.0.2:8080/preseed/52-54-00-ab-cd-01/SECRET-TOKEN/preseed.cfg');
    expect(PRESEED_ROUTE).toBe('/preseed/:mac/:token/preseed.cfg');
    expect(() => checkKernelArgs(`"auto=true url=${url}`)).toThrow(/\/preseed\/52-54-00-ab-cd-01\/REDACTED/);
    let message = '';
    try {
      checkKernelArgs(`"auto=true url=${url}`);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toContain('SECRET-TOKEN');
  });
});
