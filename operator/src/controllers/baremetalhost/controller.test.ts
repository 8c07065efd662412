import { AnvilResources, PAUSED_ANNOTATION, type BareMetalHost } from '@anvil/core/api';
import { MemoryKubeClient, MemorySnapshotCache } from '@anvil/core/src/kube/memory-client.js';
import { silentLogger } from '@anvil/core/logging';
import type { Request } from '../../runtime/reconciler.js';
import { commitThenContinue, done, type ReconcileResult } from '../../runtime/result.js';
import { BareMetalHostReconciler, HOST_FINALIZER } from './controller.js';
import { FixtureHostPorts } from './fixture-ports.js';
import { simConfig, simHost } from './testing/host-sim.js';

const req: Request = { namespace: 'lab', name: 'node-01' };


async function setup(host: BareMetalHost = simHost()) {
  const client = new MemoryKubeClient();
  await client.create(AnvilResources.bareMetalHost, host);
  const cache = new MemorySnapshotCache<BareMetalHost>(client, AnvilResources.bareMetalHost);
  await cache.sync();
  const ports = new FixtureHostPorts();
  ports.hosts = [host];
  const reconciler = new BareMetalHostReconciler({ client, hosts: cache, ports, log: silentLogger(), config: simConfig, now: () => new Date('2026-01-02T00:00:00Z') });
  const stored = (): Promise<BareMetalHost | undefined> => client.get<BareMetalHost>(AnvilResources.bareMetalHost, req);
  const pass = async (): Promise<ReconcileResult> => {
    const result = await reconciler.reconcile(req);
    await cache.sync();
    return result;
  };
  return { client, cache, ports, stored, pass };
}

describe('BareMetalHostReconciler', () => {
  it('adds its finalizer and writes the state machine decision with observedGeneration', async () => {
    const { stored, pass } = await setup();
    await pass();
    const host = await stored();
    expect(host?.metadata.finalizers).toEqual([HOST_FINALIZER]);
    expect(host?.status?.state).toBeDefined();
    expect(host?.status?.observedGeneration).toBe(host?.metadata.generation);
  });

  it('on deletion saves and announces Deleting first, then removes the boot config and the finalizer', async () => {
    const { client, cache, ports, stored, pass } = await setup();
    await pass();
    const removed: string[] = [];
    const deleteBootConfig = ports.deleteBootConfig.bind(ports);
    ports.deleteBootConfig = async (h) => {
      removed.push(h.metadata.name!);
      await deleteBootConfig(h);
    };
    await client.delete(AnvilResources.bareMetalHost, req);
    await cache.sync();

    expect(await pass()).toEqual(commitThenContinue());
    const deleting = await stored();
    expect(deleting?.status?.state).toBe('Deleting');
    expect(deleting?.metadata.finalizers).toEqual([HOST_FINALIZER]);
    expect(removed).toEqual([]);

    expect(await pass()).toEqual(done());
    expect(removed).toEqual(['node-01']);
    expect(await stored()).toBeUndefined();
    expect(ports.events.filter((e) => e.reason === 'Deleting')).toEqual([{ host: 'lab/node-01', type: 'Normal', reason: 'Deleting', note: 'removing boot config' }]);
  });

  it('does nothing while paused, not even add its finalizer', async () => {
    const host = simHost();
    host.metadata.annotations = { [PAUSED_ANNOTATION]: 'true' };
    const { client, stored, pass } = await setup(host);
    const writes = client.writes.length;
    expect(await pass()).toEqual(done());
    expect(client.writes.length).toBe(writes);
    expect((await stored())?.metadata.finalizers).toBeUndefined();
  });
});
