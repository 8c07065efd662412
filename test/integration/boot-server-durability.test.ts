// Nothing accepted is lost: with the history database (real PostgreSQL) stopped, the boot-server accepts installer
// events into its durable spool; it is killed with SIGKILL; database and boot-server come back, and every accepted
// event is in the database exactly once, the installation finished, and the host reached Provisioned.
import { jest } from '@jest/globals';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import { fromSecret } from '@anvil/core/bootconfig';
import { openHistoryStore } from '@anvil/core/db';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { createMinimalTemplate, HostType, subiquityEvents } from '../harness/installer-sim.js';
import type { RunningPostgres } from '../harness/postgres.js';
import { startPostgresAndControlPlane } from '../harness/start-together.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';

jest.setTimeout(240_000);

type Host = BareMetalHost & KubeObject;
const ns = 'durable';

describe('boot-server durability', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let manager: Manager;
  let pgServer: RunningPostgres;
  let databaseUrl: string;
  let boot: RunningProcess | undefined;

  beforeAll(async () => {
    [pgServer, cp] = await startPostgresAndControlPlane();
    databaseUrl = await pgServer.createDatabase('anvil_durable');
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
  });

  afterAll(async () => {
    await manager?.stop();
    await boot?.kill('SIGKILL');
    if (boot) await (await import('node:fs/promises')).rm(boot.dir, { recursive: true, force: true }); // the harness's anvil-boot-* dir
    await cp?.stop();
    await pgServer?.stop();
  });

  it('keeps every accepted event through a database outage and a kill -9, storing each exactly once', async () => {
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, extraArgs: ['--database-url', databaseUrl] });
    const dir = boot.dir;
    const port = boot.port;
    await createMinimalTemplate(client, ns);
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'test', namespaces: [ns] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: boot.url });
    await manager.start();
    await client.create(HostType, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'BareMetalHost',
      metadata: { name: 'h1', namespace: ns },
      spec: { bootMACAddress: '52:54:00:dd:00:01', templateRef: { name: 't' }, secretRefs: [{ name: 'creds', key: 'hash', variable: 'hash' }] },
    });
    const config = await waitFor('boot config', async () => {
      const s = await client.get(CoreResources.secret, { namespace: ns, name: 'h1-bootconfig' });
      const c = s ? fromSecret(s) : undefined;
      return c?.mode === 'install' ? c : undefined;
    });
    const installationId = config.install!.installationId;
    await waitFor('boot-server sees the config', async () => (await (await fetch(`${boot!.url}/ipxe/52-54-00-dd-00-01`)).text()).includes('kernel'));

    // The database goes away; the installer keeps reporting and every event is accepted.
    await pgServer.pause();
    const webhook = /endpoint: (\S+)/.exec(config.install!.userData)![1]!;
    const events = subiquityEvents('SUCCESS');
    for (const e of events) expect((await fetch(webhook, { method: 'POST', body: JSON.stringify(e) })).status).toBe(200);
    // A repeated delivery of the same event must still be stored once.
    expect((await fetch(webhook, { method: 'POST', body: JSON.stringify(events[3]) })).status).toBe(200);

    await boot.kill('SIGKILL');
    await pgServer.resume();
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, dir, port, extraArgs: ['--database-url', databaseUrl] });

    const store = await openHistoryStore({ databaseUrl, dataDir: '', migrate: false });
    try {
      const stored = await waitFor('events in the database', async () => {
        const page = await store.listInstallerEvents(installationId, { limit: 100 });
        return page.items.length >= events.length ? page.items : undefined;
      }, 60_000, 500);
      expect(stored).toHaveLength(events.length);
      expect(new Set(stored.map((e) => e.eventKey)).size).toBe(events.length);
      const installation = await waitFor('installation finished', async () => {
        const i = await store.getInstallation(installationId);
        return i?.result ? i : undefined;
      });
      expect(installation).toMatchObject({ result: 'SUCCESS', attempt: 1, host: { namespace: ns, name: 'h1' } });
      const boots = await store.listBootRequests('52:54:00:dd:00:01');
      expect(boots.items.length).toBeGreaterThanOrEqual(1);
    } finally {
      await store.close();
    }
    await waitFor('host Provisioned', async () => (await client.get<Host>(HostType, { namespace: ns, name: 'h1' }))?.status?.state === 'Provisioned', 30_000);
  });
});
