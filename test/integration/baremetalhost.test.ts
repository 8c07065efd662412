// The BareMetalHost and AutoinstallTemplate controllers against a real kube-apiserver, with installer progress
// reported the way the boot-server reports it.
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anvilCrds, type AutoinstallTemplate, type BareMetalHost } from '@anvil/core/api';
import { fromSecret, type BootConfig } from '@anvil/core/bootconfig';
import { ApiError, CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { HostType, postEvent, recordBoot, subiquityEvents } from '../harness/installer-sim.js';

jest.setTimeout(180_000);

type Host = BareMetalHost & KubeObject;
const TemplateType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true };
const ns = 'lab';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';

function template(name: string, userData: string, extra: Partial<AutoinstallTemplate['spec']> = {}): KubeObject {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'AutoinstallTemplate',
    metadata: { name, namespace: ns },
    spec: {
      defaults: { timezone: 'Etc/UTC' },
      boot: {
        kernel: { url: 'http://127.0.0.1:9/ubuntu/vmlinuz', sha256: 'a'.repeat(64) },
        initrd: { url: 'http://127.0.0.1:9/ubuntu/initrd', sha256: 'b'.repeat(64) },
        kernelArgs: 'console=ttyS0',
      },
      userData,
      ...extra,
    },
  };
}

const goodUserData = `#cloud-config
autoinstall:
  version: 1
  timezone: {{ timezone | yaml }}
  identity:
    hostname: {{ host.hostname | yaml }}
    username: ubuntu
    password: {{ passwordHash | yaml }}
`;

function host(name: string, mac: string, templateName = 'ubuntu', revision = 1): KubeObject {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name, namespace: ns },
    spec: {
      bootMACAddress: mac,
      hostname: name,
      templateRef: { name: templateName },
      secretRefs: [{ name: 'install-secrets', key: 'password-hash', variable: 'passwordHash' }],
      provisioning: { revision, maxRetries: 1, timeoutSeconds: 600 },
    },
  };
}

describe('BareMetalHost lifecycle on a real API server', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let manager: Manager;

  const getHost = async (name: string) => (await client.get<Host>(HostType, { namespace: ns, name }))!;
  const bootConfig = async (name: string): Promise<BootConfig | undefined> => {
    const s = await client.get(CoreResources.secret, { namespace: ns, name: `${name}-bootconfig` });
    return s ? fromSecret(s) : undefined;
  };
  const waitState = async (name: string, state: string, extra: (h: Host) => boolean = () => true) => {
    try {
      return await waitFor(`${name} in ${state}`, async () => {
        const h = await getHost(name);
        return h.status?.state === state && extra(h) ? h : undefined;
      }, 30_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; host is now: ${JSON.stringify((await getHost(name)).status)}`);
    }
  };

  beforeAll(async () => {
    cp = await startControlPlane({ controllerManager: true });
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
    await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'install-secrets', namespace: ns }, stringData: { 'password-hash': HASH } });
    await client.create(TemplateType, template('ubuntu', goodUserData));
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'test', namespaces: [ns] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: 'http://10.0.0.2:8080', retryBaseMs: 1000 });
    await manager.start();
  });

  afterAll(async () => {
    await manager?.stop();
    await cp?.stop();
  });

  it('validates templates: Valid=True, and Valid=False with the nunjucks error and line', async () => {
    await waitFor('ubuntu valid', async () => {
      const t = await client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(TemplateType, { namespace: ns, name: 'ubuntu' });
      return t?.status?.conditions?.find((c) => c.type === 'Valid')?.status === 'True';
    });
    await client.create(TemplateType, template('broken', '#cloud-config\nautoinstall:\n  version: 1\n  a: {{ }}\n  b: 2\n'));
    const broken = await waitFor('broken invalid', async () => {
      const t = await client.get<KubeObject & { status?: { conditions?: { type: string; status: string; message: string }[] } }>(TemplateType, { namespace: ns, name: 'broken' });
      const c = t?.status?.conditions?.find((x) => x.type === 'Valid');
      return c?.status === 'False' ? c : undefined;
    });
    expect(broken.message).toMatch(/userData/);
    expect(broken.message).toMatch(/line \d+/);
  });

  it('installs a host once: Provisioning -> Installing -> Provisioned, then local boot; a reinstall is the next attempt', async () => {
    await client.create(HostType, host('node-01', '52:54:00:00:01:01'));
    let h = await waitState('node-01', 'Provisioning');
    expect(h.metadata.finalizers).toContain('anvil.dev/baremetalhost');
    expect(h.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const first = h.status!.currentInstall!;
    expect(first).toMatchObject({ attempt: 1, revision: 1 });

    const published = await waitFor('boot config', async () => (await bootConfig('node-01'))?.mode === 'install' ? bootConfig('node-01') : undefined);
    expect(published!.install!.userData).toContain('hostname: "node-01"');
    expect(published!.install!.userData).toContain(`endpoint: http://10.0.0.2:8080/webhook/52-54-00-00-01-01/${published!.install!.token}`);
    expect(published!.ipxe).toContain(`ds=nocloud-net;s=http://10.0.0.2:8080/nocloud/52-54-00-00-01-01/${published!.install!.token}/`);
    expect(published!.ipxe).toContain(`kernel http://10.0.0.2:8080/assets/${'a'.repeat(64)}/vmlinuz`);
    const secret = await client.get(CoreResources.secret, { namespace: ns, name: 'node-01-bootconfig' });
    expect(secret!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'BareMetalHost', name: 'node-01', controller: true });

    await recordBoot(client, ns, 'node-01');
    await waitState('node-01', 'Installing');
    for (const e of subiquityEvents('SUCCESS')) await postEvent(client, ns, 'node-01', first.installationId!, e);
    h = await waitState('node-01', 'Provisioned');
    expect(h.status?.provisionedRevision).toBe(1);
    expect(h.status?.recentInstalls?.[0]).toMatchObject({ attempt: 1, result: 'SUCCESS', reason: 'Succeeded' });
    expect(h.status?.conditions?.find((c) => c.type === 'Provisioned')?.status).toBe('True');
    const local = await waitFor('local boot config', async () => ((await bootConfig('node-01'))?.mode === 'local' ? bootConfig('node-01') : undefined));
    expect(local!.ipxe).toMatch(/\nexit\n$/);
    expect(local!.install).toBeUndefined();

    // An installer event for the finished attempt can no longer change anything... 
    // and a template change after Provisioned reinstalls nothing.
    await client.patch(TemplateType, { namespace: ns, name: 'ubuntu' }, 'merge', { spec: { defaults: { timezone: 'Europe/Berlin' } } });
    await new Promise((r) => setTimeout(r, 2000));
    h = await getHost('node-01');
    expect(h.status?.state).toBe('Provisioned');
    expect((await bootConfig('node-01'))?.mode).toBe('local');

    // Reinstall from Git: bump the revision.
    await client.patch(HostType, { namespace: ns, name: 'node-01' }, 'merge', { spec: { provisioning: { revision: 2 } } });
    h = await waitState('node-01', 'Provisioning', (x) => x.status?.currentInstall?.revision === 2);
    expect(h.status?.currentInstall?.attempt).toBe(2);
    expect(h.status?.currentInstall?.installationId).not.toBe(first.installationId);
    const second = await waitFor('new install config', async () => {
      const c = await bootConfig('node-01');
      return c?.mode === 'install' && c.install?.installationId === h.status?.currentInstall?.installationId ? c : undefined;
    });
    expect(second.install!.token).not.toBe(published!.install!.token);
    expect(second.install!.userData).toContain('Europe/Berlin');

    // An event from the old attempt is refused by the status patch guard.
    let stale: unknown;
    try {
      await postEvent(client, ns, 'node-01', first.installationId!, { name: 'subiquity/Install/install', event_type: 'finish', result: 'SUCCESS' });
    } catch (err) {
      stale = err;
    }
    expect(stale).toBeInstanceOf(ApiError);
    expect((stale as ApiError).code).toBe(422);
  });

  it('retries a failed install with backoff and reports Failed with the reason when retries run out', async () => {
    await client.create(HostType, host('node-02', '52:54:00:00:01:02'));
    let h = await waitState('node-02', 'Provisioning');
    await recordBoot(client, ns, 'node-02');
    await waitState('node-02', 'Installing');
    for (const e of subiquityEvents('FAIL')) await postEvent(client, ns, 'node-02', h.status!.currentInstall!.installationId!, e);
    h = await waitState('node-02', 'Failed');
    expect(h.status?.errorType).toBe('InstallFailed');
    expect(h.status?.errorMessage).toContain('curtin command curthooks failed');
    expect(h.status?.retry?.count).toBe(1);
    // After the backoff (1 s here) the host is retried as attempt 2...
    h = await waitState('node-02', 'Provisioning', (x) => x.status?.currentInstall?.attempt === 2);
    await recordBoot(client, ns, 'node-02');
    await waitState('node-02', 'Installing', (x) => x.status?.currentInstall?.attempt === 2);
    for (const e of subiquityEvents('FAIL')) await postEvent(client, ns, 'node-02', h.status!.currentInstall!.installationId!, e);
    // ...and with maxRetries 1 that was the last one.
    h = await waitState('node-02', 'Failed', (x) => x.status?.conditions?.some((c) => c.type === 'Provisioned' && c.reason === 'RetriesExhausted') ?? false);
    expect(h.status?.errorMessage).toMatch(/failed after 2 attempt\(s\)/);
    expect((await bootConfig('node-02'))?.mode).toBe('local');
    const events = await client.list<KubeObject & { reason?: string; regarding?: { name?: string } }>(CoreResources.event, { namespace: ns });
    const reasons = events.items.filter((e) => e.regarding?.name === 'node-02').map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Provisioning', 'Installing', 'Failed']));
  });

  it('surfaces template errors in status and publishes no boot config', async () => {
    await client.create(TemplateType, template('undefined-var', goodUserData.replace('{{ timezone | yaml }}', '{{ nosuchvar | yaml }}')));
    await client.create(TemplateType, template('plain-password', goodUserData.replace('{{ passwordHash | yaml }}', 'hunter2')));
    await client.create(HostType, host('node-03', '52:54:00:00:01:03', 'undefined-var'));
    await client.create(HostType, host('node-04', '52:54:00:00:01:04', 'plain-password'));
    await client.create(HostType, host('node-05', '52:54:00:00:01:05', 'no-such-template'));
    const h3 = await waitFor('node-03 error', async () => ((await getHost('node-03')).status?.errorMessage ? getHost('node-03') : undefined));
    expect(h3!.status?.state).toBe('Pending');
    expect(h3!.status?.errorMessage).toContain('nosuchvar');
    const h4 = await waitFor('node-04 error', async () => ((await getHost('node-04')).status?.errorMessage ? getHost('node-04') : undefined));
    expect(h4!.status?.errorMessage).toMatch(/password/i);
    expect(h4!.status?.errorMessage).not.toContain('hunter2');
    const h5 = await waitFor('node-05 error', async () => ((await getHost('node-05')).status?.errorMessage ? getHost('node-05') : undefined));
    expect(h5!.status?.errorMessage).toContain('no-such-template');
    for (const n of ['node-03', 'node-04', 'node-05']) expect(await bootConfig(n)).toBeUndefined();
  });

  it('refuses a duplicate MAC on the second host and leaves the first alone; deleting the first frees it', async () => {
    await client.create(HostType, host('dup-a', '52:54:00:00:02:01'));
    await waitState('dup-a', 'Provisioning');
    await client.create(HostType, host('dup-b', '52:54:00:00:02:01'));
    const b = await waitFor('dup-b refused', async () => {
      const x = await getHost('dup-b');
      return x.status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'DuplicateMAC') ? x : undefined;
    });
    expect(b.status?.errorMessage).toContain('lab/dup-a');
    expect(await bootConfig('dup-b')).toBeUndefined();
    expect((await getHost('dup-a')).status?.state).toBe('Provisioning');

    await client.delete(HostType, { namespace: ns, name: 'dup-a' });
    await waitFor('dup-a gone', async () => (await client.get(HostType, { namespace: ns, name: 'dup-a' })) === undefined);
    await waitFor('dup-a boot config removed', async () => (await bootConfig('dup-a')) === undefined);
    // Deletion is the Deleting state (there is no Deprovisioning): the finalizer path records it.
    await waitFor('dup-a Deleting event', async () => {
      const events = await client.list<KubeObject & { reason?: string; regarding?: { name?: string } }>(CoreResources.event, { namespace: ns });
      return events.items.some((e) => e.regarding?.name === 'dup-a' && e.reason === 'Deleting');
    });
    await waitState('dup-b', 'Provisioning');
  });

  it('reports an autoinstall schema violation in the host status', async () => {
    await client.create(TemplateType, template('schema-violation', goodUserData.replace('    username: ubuntu\n', '    username: ubuntu\n    shoe-size: 44\n')));
    await client.create(HostType, host('node-06', '52:54:00:00:01:06', 'schema-violation'));
    const h = await waitFor('node-06 error', async () => ((await getHost('node-06')).status?.errorMessage ? getHost('node-06') : undefined));
    expect(h!.status?.errorType).toBe('ValidationError');
    expect(h!.status?.errorMessage).toMatch(/autoinstall\.identity.*shoe-size/);
    expect(await bootConfig('node-06')).toBeUndefined();
  });

  it('the anvil CLI lists hosts, renders one with secrets masked, and asks for a reinstall', async () => {
    const run = (...args: string[]) => {
      const r = spawnSync(join(ROOT, 'scripts', 'anvil'), [...args, '--kubeconfig', cp.kubeconfigPath, '-n', ns], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
      if (r.status !== 0) throw new Error(`anvil ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
      return r.stdout;
    };
    const table = run('hosts');
    expect(table).toMatch(/NAME\s+STATE\s+MAC/);
    expect(table).toMatch(/node-01\s+Provisioning\s+52:54:00:00:01:01\s+ubuntu/);
    const rendered = run('render', 'node-01', '--boot-server-url', 'http://10.0.0.2:8080');
    expect(rendered).toContain('--- user-data');
    expect(rendered).toContain('endpoint: http://10.0.0.2:8080/webhook/52-54-00-00-01-01/TOKEN');
    expect(rendered).not.toContain(HASH);
    expect(rendered).toContain('kernel http://10.0.0.2:8080/assets/');
    const before = (await getHost('node-02')).spec.provisioning?.revision ?? 0;
    expect(run('reinstall', 'node-02')).toContain(`revision set to ${before + 1}`);
    await waitState('node-02', 'Provisioning', (x) => x.status?.currentInstall?.revision === before + 1);
  });

  it('records each valid content of a template as a revision in a ControllerRevision, and the CLI lists and diffs them', async () => {
    type Revised = KubeObject & { status?: { revisions?: { revision: number; controllerRevision: string; contentHash: string }[] } };
    const revisions = async (want: number) =>
      waitFor(`${want} revisions`, async () => {
        const t = await client.get<Revised>(TemplateType, { namespace: ns, name: 'revised' });
        return t?.status?.revisions?.length === want ? t.status.revisions : undefined;
      });
    await client.create(TemplateType, template('revised', goodUserData));
    const [first] = await revisions(1);
    const stored = await client.get<KubeObject & { data: { chain: string[]; specs: Record<string, unknown> }; revision: number }>(
      { group: 'apps', version: 'v1', kind: 'ControllerRevision', plural: 'controllerrevisions', namespaced: true },
      { namespace: ns, name: first!.controllerRevision },
    );
    expect(stored).toMatchObject({ revision: 1, data: { chain: ['revised'], contentHash: first!.contentHash } });
    expect(stored!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'AutoinstallTemplate', name: 'revised' });
    // an invalid edit is no revision; a valid one is the next
    await client.patch(TemplateType, { namespace: ns, name: 'revised' }, 'merge', { spec: { userData: '#cloud-config\n{{ }}\n' } });
    await waitFor('revised invalid', async () => ((await client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(TemplateType, { namespace: ns, name: 'revised' }))?.status?.conditions?.find((c) => c.type === 'Valid')?.status === 'False' ? true : undefined));
    await client.patch(TemplateType, { namespace: ns, name: 'revised' }, 'merge', { spec: { userData: goodUserData, defaults: { timezone: 'Asia/Tokyo' } } });
    const list = await revisions(2);
    expect(list.map((r) => r.revision)).toEqual([2, 1]);

    const cli = (...args: string[]) => spawnSync(join(ROOT, 'scripts', 'anvil'), [...args, '--kubeconfig', cp.kubeconfigPath, '-n', ns], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const table = cli('revisions', 'revised');
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^REVISION\s+CONTENT\s+CREATED\s+CONTROLLERREVISION/);
    const rows = table.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => [r[0], r[3], r[4]])).toEqual([['2', list[0]!.controllerRevision, 'current'], ['1', list[1]!.controllerRevision, undefined]]);
    const diff = cli('revisions', 'revised', '1', '2');
    expect(diff.status).toBe(1);
    expect(diff.stdout).toContain('--- revised revision 1');
    expect(diff.stdout).toMatch(/^\+\s+timezone: Asia\/Tokyo$/m);
    const missing = cli('revisions', 'revised', '1', '7');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('keeps no revision 7 (kept: 2, 1)');
  });

  it('pauses reconciliation with the anvil.dev/paused annotation', async () => {
    await client.create(HostType, { ...host('paused', '52:54:00:00:03:01'), metadata: { name: 'paused', namespace: ns, annotations: { 'anvil.dev/paused': 'true' } } });
    await new Promise((r) => setTimeout(r, 2000));
    expect((await getHost('paused')).status).toBeUndefined();
    await client.patch(HostType, { namespace: ns, name: 'paused' }, 'merge', { metadata: { annotations: { 'anvil.dev/paused': null } } });
    await waitState('paused', 'Provisioning');
  });
});
