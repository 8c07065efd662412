// The boot-server process against a real API server and the real operator controllers: iPXE scripts by MAC, NoCloud
// seeds behind the per-install token, the asset cache, the progress webhook, and hostile input.
import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import { fromSecret, type BootConfig } from '@anvil/core/bootconfig';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { freePort, startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { HostType, subiquityEvents } from '../harness/installer-sim.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';

jest.setTimeout(180_000);

type Host = BareMetalHost & KubeObject;
const ns = 'boot';
const MAC = '52:54:00:aa:00:01';
const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';
const kernel = Buffer.alloc(300_000, 7);
const initrd = Buffer.from('a small initrd');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('boot-server', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let manager: Manager;
  let boot: RunningProcess;
  let mirror: Server;
  const mirrorHits: Record<string, number> = {};

  const getHost = async (name: string) => (await client.get<Host>(HostType, { namespace: ns, name }))!;
  const bootConfig = async (name: string): Promise<BootConfig | undefined> => {
    const s = await client.get(CoreResources.secret, { namespace: ns, name: `${name}-bootconfig` });
    return s ? fromSecret(s) : undefined;
  };
  const waitState = (name: string, state: string) =>
    waitFor(`${name} ${state}`, async () => ((await getHost(name)).status?.state === state ? getHost(name) : undefined), 30_000);

  beforeAll(async () => {
    const mirrorPort = await freePort();
    mirror = createServer((req, res) => {
      mirrorHits[req.url ?? ''] = (mirrorHits[req.url ?? ''] ?? 0) + 1;
      const body = req.url === '/vmlinuz' ? kernel : req.url === '/initrd' ? initrd : undefined;
      if (!body) return void res.writeHead(404).end();
      // Slow enough that concurrent first requests overlap.
      setTimeout(() => res.writeHead(200, { 'Content-Length': body.length }).end(body), 200);
    });
    await new Promise<void>((r) => mirror.listen(mirrorPort, '127.0.0.1', r));
    cp = await startControlPlane();
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath });
    await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: ns }, stringData: { hash: HASH } });
    await client.create({ group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true }, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'AutoinstallTemplate',
      metadata: { name: 'ubuntu', namespace: ns },
      spec: {
        boot: { kernel: { url: `http://127.0.0.1:${mirrorPort}/vmlinuz`, sha256: sha(kernel) }, initrd: { url: `http://127.0.0.1:${mirrorPort}/initrd`, sha256: sha(initrd) } },
        userData: '#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: {{ host.hostname | yaml }}\n    username: u\n    password: {{ hash | yaml }}\n',
      },
    });
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'test', namespaces: [ns] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: boot.url, retryBaseMs: 1000 });
    await manager.start();
    await client.create(HostType, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'BareMetalHost',
      metadata: { name: 'm1', namespace: ns },
      spec: { bootMACAddress: MAC, templateRef: { name: 'ubuntu' }, secretRefs: [{ name: 'creds', key: 'hash', variable: 'hash' }] },
    });
  });

  afterAll(async () => {
    await manager?.stop();
    await boot?.kill();
    if (boot) rmSync(boot.dir, { recursive: true, force: true });
    await cp?.stop();
    await new Promise((r) => mirror?.close(r));
  });

  it('serves the entry script, the install script by MAC, and moves the host to Installing', async () => {
    await waitState('m1', 'Provisioning');
    const entry = await (await fetch(`${boot.url}/boot.ipxe`)).text();
    expect(entry).toContain(`chain --autofree ${boot.url}/ipxe/\${net0/mac:hexhyp}`);
    const config = await waitFor('published', async () => ((await bootConfig('m1'))?.mode === 'install' ? bootConfig('m1') : undefined));
    const script = await waitFor('install script', async () => {
      const t = await (await fetch(`${boot.url}/ipxe/52-54-00-AA-00-01?arch=x86_64&platform=efi`)).text();
      return t.includes('kernel ') ? t : undefined;
    });
    expect(script).toBe(config!.ipxe);
    await waitState('m1', 'Installing');
    const h = await getHost('m1');
    expect(h.status?.lastBootRequest).toMatchObject({ served: 'InstallScript', path: '/ipxe/52-54-00-AA-00-01' });
  });

  it('serves cached assets once fetched and verified, with Range support, one download for concurrent requests', async () => {
    const config = (await bootConfig('m1'))!;
    const kernelURL = /kernel (\S+)/.exec(config.ipxe)![1]!;
    const bodies = await Promise.all([1, 2, 3].map(async () => Buffer.from(await (await fetch(kernelURL)).arrayBuffer())));
    for (const b of bodies) expect(sha(b)).toBe(sha(kernel));
    // One download of the kernel in all: started when the config was published, shared by every request.
    expect(mirrorHits['/vmlinuz']).toBe(1);
    const part = await fetch(kernelURL, { headers: { Range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(kernel.subarray(100, 200));
    expect((await fetch(`${boot.url}/assets/${'0'.repeat(64)}/vmlinuz`)).status).toBe(404);
  });

  it('serves NoCloud files only with the valid token', async () => {
    const config = (await bootConfig('m1'))!;
    const seed = /ds=nocloud-net;s=(\S+)/.exec(config.ipxe)![1]!;
    const userData = await fetch(`${seed}user-data`);
    expect(userData.status).toBe(200);
    expect(await userData.text()).toBe(config.install!.userData);
    expect((await fetch(`${seed}meta-data`)).status).toBe(200);
    expect((await fetch(seed.replace(config.install!.token, 'wrong-token') + 'user-data')).status).toBe(404);
    expect((await fetch(`${seed}../../etc/passwd`)).status).toBe(404);
  });

  it('rejects bad webhook input clearly and never crashes', async () => {
    const config = (await bootConfig('m1'))!;
    const webhook = /endpoint: (\S+)/.exec(config.install!.userData)![1]!;
    expect((await fetch(webhook, { method: 'POST', body: '{nope' })).status).toBe(400);
    const invalid = await fetch(webhook, { method: 'POST', body: JSON.stringify({ name: 'x' }) });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: string }).error).toContain('event_type');
    expect((await fetch(webhook, { method: 'POST', body: 'x'.repeat(200_000) })).status).toBe(413);
    expect((await fetch(webhook.replace(config.install!.token, 'guess'), { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${boot.url}/webhook/00-00-00-00-00-00/x`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${boot.url}/ipxe/not-a-mac`)).status).toBe(400);
    expect((await fetch(`${boot.url}/healthz`)).status).toBe(200);
  });

  it('takes the installer events, moves the host to Provisioned, then answers local boot and retires the token', async () => {
    const config = (await bootConfig('m1'))!;
    const webhook = /endpoint: (\S+)/.exec(config.install!.userData)![1]!;
    for (const e of subiquityEvents('SUCCESS')) {
      const res = await fetch(webhook, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(e) });
      expect(res.status).toBe(200);
    }
    const h = await waitState('m1', 'Provisioned');
    expect(h.status?.currentInstall?.lastEvent).toMatchObject({ name: 'subiquity/Install/install', type: 'finish', result: 'SUCCESS' });
    const local = await waitFor('local boot script', async () => {
      const t = await (await fetch(`${boot.url}/ipxe/${MAC}`)).text();
      return /\nexit\n$/.test(t) ? t : undefined;
    });
    expect(local).not.toContain('kernel');
    const seed = /ds=nocloud-net;s=(\S+)/.exec(config.ipxe)![1]!;
    expect((await fetch(`${seed}user-data`)).status).toBe(404);
    expect((await fetch(webhook, { method: 'POST', body: JSON.stringify({ name: 'late', event_type: 'start' }) })).status).toBe(404);
  });

  it('tells an unknown machine to boot locally and records it', async () => {
    const t = await (await fetch(`${boot.url}/ipxe/52-54-00-ff-ff-ff?arch=x86_64`)).text();
    expect(t).toContain('no BareMetalHost has boot MAC 52:54:00:ff:ff:ff');
    expect(t).toMatch(/\nexit\n$/);
    const metrics = await (await fetch(`${boot.url}/metrics`)).text();
    expect(metrics).toMatch(/anvil_webhook_events_total\{outcome="accepted"\} \d+/);
  });
});
