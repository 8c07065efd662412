// The ignition installer through the real operator, a real kube-apiserver and a real boot-server process: templates
// without spec.installer keep being Ubuntu autoinstall; bad Ignition (wrong version, bad JSON, a plain-text password)
// is refused before anything is published, with a status message naming the field, path and line; a good config is
// published, booted with the Flatcar PXE kernel arguments, served as JSON at the tokenised URL only, and the event its
// report unit posts makes the host Provisioned.
import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import { bootConfigSecretName, fromSecret, macDashed, type BootConfig } from '@anvil/core/bootconfig';
import { CoreResources, type KubeClient, type KubeObject, type ResourceType } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { IGNITION_FINISH_EVENT, REPORT_UNIT_NAME } from '@anvil/operator/src/installers/index.js';
import { defaultRenderer } from '@anvil/operator/src/render/renderer.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { HostType, TEST_PASSWORD_HASH } from '../harness/installer-sim.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';
import { kubeTools } from '../harness/tools.js';

const EXAMPLE = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'examples', 'flatcar');

jest.setTimeout(240_000);

type Host = BareMetalHost & KubeObject;
type Template = KubeObject & { spec: Record<string, unknown>; status?: { conditions?: { type: string; status: string; message?: string }[] } };
const TemplateType: ResourceType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true };
const ns = 'ignition';
const BOOT = { kernel: { url: 'http://127.0.0.1:9/flatcar/vmlinuz', sha256: 'a'.repeat(64) }, initrd: { url: 'http://127.0.0.1:9/flatcar/initrd.cpio.gz', sha256: 'b'.repeat(64) } };
const PLAIN_PASSWORD = 'plain-text-password-9f3';

const ignitionTemplate = (name: string, ignition: string): KubeObject => ({
  apiVersion: 'anvil.dev/v1alpha1',
  kind: 'AutoinstallTemplate',
  metadata: { name, namespace: ns },
  spec: { installer: 'ignition', boot: { ...BOOT, kernelArgs: 'console=ttyS0' }, ignition },
});

const GOOD = `{
  "ignition": {"version": "3.3.0"},
  "passwd": {"users": [{"name": "core", "passwordHash": {{ hash | json }}}]},
  "storage": {"files": [{"path": "/etc/hostname", "mode": 420, "contents": {"source": {{ ("data:," ~ host.hostname) | json }}}}]}
}`;

function host(name: string, mac: string, templateName: string): KubeObject {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name, namespace: ns },
    spec: {
      bootMACAddress: mac,
      hostname: name,
      templateRef: { name: templateName },
      secretRefs: [{ name: 'creds', variable: 'creds' }, { name: 'creds', key: 'hash', variable: 'hash' }],
      provisioning: { revision: 1, maxRetries: 1, timeoutSeconds: 3600 },
    },
  };
}

describe('the ignition installer on a real API server and boot-server', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let manager: Manager;
  let boot: RunningProcess;

  const getHost = async (name: string) => (await client.get<Host>(HostType, { namespace: ns, name }))!;
  const bootConfigSecret = (name: string) => client.get(CoreResources.secret, { namespace: ns, name: bootConfigSecretName(name) });
  const bootConfig = async (name: string): Promise<BootConfig | undefined> => {
    const s = await bootConfigSecret(name);
    return s ? fromSecret(s) : undefined;
  };
  const waitHost = async (name: string, what: string, ok: (h: Host) => boolean): Promise<Host> => {
    try {
      return await waitFor(`${name}: ${what}`, async () => {
        const h = await getHost(name);
        return ok(h) ? h : undefined;
      }, 60_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; host status: ${JSON.stringify((await getHost(name)).status)}`);
    }
  };

  beforeAll(async () => {
    cp = await startControlPlane();
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath });
    await client.create(CoreResources.secret, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds', namespace: ns },
      stringData: { hash: TEST_PASSWORD_HASH, plain: PLAIN_PASSWORD },
    });
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'test', namespaces: [ns] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: boot.url, retryBaseMs: 1000 });
    await manager.start();
  });

  afterAll(async () => {
    await manager?.stop();
    await defaultRenderer().close();
    await boot?.kill();
    if (boot) rmSync(boot.dir, { recursive: true, force: true });
    await cp?.stop();
  });

  it('keeps templates without spec.installer as Ubuntu autoinstall (the API server fills in the default)', async () => {
    await client.create(TemplateType, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'AutoinstallTemplate',
      metadata: { name: 'legacy', namespace: ns },
      spec: { boot: BOOT, userData: '#cloud-config\nautoinstall:\n  version: 1\n' },
    });
    const legacy = (await client.get<Template>(TemplateType, { namespace: ns, name: 'legacy' }))!;
    expect(legacy.spec.installer).toBe('ubuntu-autoinstall');
    await expect(client.create(TemplateType, { ...ignitionTemplate('typo', '{}'), spec: { installer: 'ignitoin', boot: BOOT } })).rejects.toThrow(/installer/);
  });

  it('reports a nunjucks error in the ignition field on the template, with its line', async () => {
    await client.create(TemplateType, ignitionTemplate('broken-syntax', '{\n  "ignition": {"version": "3.3.0"},\n  "x": {{ }}\n}'));
    const valid = await waitFor('broken-syntax invalid', async () => {
      const t = await client.get<Template>(TemplateType, { namespace: ns, name: 'broken-syntax' });
      const c = t?.status?.conditions?.find((x) => x.type === 'Valid');
      return c?.status === 'False' ? c : undefined;
    });
    expect(valid.message).toMatch(/ignition: broken-syntax\/ignition line 3/);
  });

  it('refuses bad Ignition with the field, path and line in status, and publishes no boot config', async () => {
    const cases: [name: string, ignition: string, message: RegExp][] = [
      ['wrong-version', '{"ignition": {"version": "3.9.0"}}', /^ignition: rendered line 1: ignition\.version: "3\.9\.0" is not a supported Ignition config version: anvil serves 3\.0\.0, .*3\.4\.0$/],
      ['bad-json', '{\n  "ignition": {"version": "3.3.0"},\n  "passwd": {"users": [{"name": "core",}]}\n}', /^ignition: rendered line 3, column \d+: invalid JSON: /],
      [
        'plain-password',
        '{"ignition": {"version": "3.3.0"}, "passwd": {"users": [{"name": "core", "passwordHash": {{ creds.plain | json }}}]}}',
        /^ignition: rendered line 1: passwd\.users\[0\]\.passwordHash: must be a crypt\(3\) password hash/,
      ],
    ];
    for (const [name, ignition] of cases) await client.create(TemplateType, ignitionTemplate(name, ignition));
    for (const [i, [name]] of cases.entries()) await client.create(HostType, host(`f-${name}`, `52:54:00:00:0a:${String(10 + i)}`, name));
    for (const [name, , message] of cases) {
      const h = await waitHost(`f-${name}`, 'refused', (x) => !!x.status?.errorMessage);
      expect(h.status?.state).toBe('Pending');
      expect(h.status?.errorType).toBe('ValidationError');
      expect(h.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidInstallerConfig' });
      expect(h.status?.errorMessage).toMatch(message);
      expect(await bootConfigSecret(`f-${name}`)).toBeUndefined();
    }
    const hosts = JSON.stringify((await client.list<Host>(HostType, { namespace: ns })).items);
    expect(hosts).not.toContain(PLAIN_PASSWORD);
  });

  it('publishes a good config, boots it the Flatcar PXE way, serves it behind the token, and takes the report unit\'s verdict', async () => {
    const mac = '52:54:00:00:0b:01';
    await client.create(TemplateType, ignitionTemplate('flatcar', GOOD));
    await client.create(HostType, host('f-good', mac, 'flatcar'));
    const config = await waitFor('f-good published', async () => ((await bootConfig('f-good'))?.mode === 'install' ? bootConfig('f-good') : undefined), 60_000);
    const install = config!.install!;
    expect(install.installer).toBe('ignition');
    const configURL = `${boot.url}/ignition/${macDashed(mac)}/${install.token}/config.ign`;
    expect(config!.ipxe).toContain(` console=ttyS0 ignition.config.url=${configURL} ignition.platform.id=metal flatcar.first_boot=1\n`);

    // the machine: iPXE script by MAC, then its Ignition config
    const script = await (await fetch(`${boot.url}/ipxe/${macDashed(mac)}?arch=x86_64&platform=efi`)).text();
    expect(script).toBe(config!.ipxe);
    const res = await fetch(configURL);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const served = await res.text();
    expect(served).toBe(install.ignition);
    const ignition = JSON.parse(served) as { passwd: { users: { passwordHash: string }[] }; systemd: { units: { name: string; contents: string }[] } };
    expect(ignition.passwd.users[0]!.passwordHash).toBe(TEST_PASSWORD_HASH);
    const unit = ignition.systemd.units.find((u) => u.name === REPORT_UNIT_NAME)!;
    const webhook = `${boot.url}/webhook/${macDashed(mac)}/${install.token}`;
    expect(unit.contents).toContain(` ${webhook}\n`);
    expect((await fetch(configURL.replace(install.token, 'wrong-token'))).status).toBe(404);
    expect((await fetch(`${boot.url}/nocloud/${macDashed(mac)}/${install.token}/user-data`)).status).toBe(404);
    await waitHost('f-good', 'Installing, config served', (h) => h.status?.state === 'Installing' && h.status?.lastBootRequest?.served === 'IgnitionConfig');

    // what the report unit's curl sends once the system is up
    const posted = await fetch(webhook, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(IGNITION_FINISH_EVENT) });
    expect(posted.status).toBeLessThan(300);
    const done = await waitHost('f-good', 'Provisioned', (h) => h.status?.state === 'Provisioned');
    expect(done.status?.lastBootRequest?.path).toBe(`/ignition/${macDashed(mac)}/REDACTED/config.ign`);
    expect(JSON.stringify(done.status)).not.toContain(install.token);
  });

  it('applies examples/flatcar with kubectl and publishes its host\'s Ignition config', async () => {
    const out = execFileSync(kubeTools().kubectl, ['apply', '-n', ns, '-f', EXAMPLE], { env: { ...process.env, KUBECONFIG: cp.kubeconfigPath }, encoding: 'utf8' });
    expect(out).toContain('autoinstalltemplate.anvil.dev/flatcar-stable created');
    const config = await waitFor('flatcar-01 published', async () => ((await bootConfig('flatcar-01'))?.mode === 'install' ? bootConfig('flatcar-01') : undefined), 60_000);
    const ignition = JSON.parse(config!.install!.ignition!) as { ignition: { version: string }; passwd: { users: { passwordHash: string }[] } };
    expect(ignition.ignition.version).toBe('3.3.0');
    expect(ignition.passwd.users[0]!.passwordHash).toMatch(/^\$6\$/);
    expect(config!.install!.ignition).not.toContain('change-me');
    expect(config!.ipxe).toContain('flatcar.first_boot=1');
  });
});
