// Two operator runtimes share one Lease on a real API server: only the leader reconciles; when it dies the other
// takes over once the lease expires (~15 s); when it stops gracefully it hands the lease over at once.
import { jest } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, installCrds, waitFor } from '../harness/kube.js';
import { WidgetType, widget, widgetCrd, type Widget } from '../fixtures/widget.js';

jest.setTimeout(120_000);

describe('leader election', () => {
  let cp: ControlPlane;
  let client: KubeClient;

  beforeAll(async () => {
    cp = await startControlPlane();
    client = clientFor(cp);
    await installCrds(client, [widgetCrd]);
  });

  afterAll(async () => {
    await cp?.stop();
  });

  function replica(identity: string, reconciled: string[]): Manager {
    const m = new Manager({
      client: clientFor(cp),
      log: silentLogger(),
      identity,
      namespaces: ['default'],
      leaderElection: { namespace: 'default', name: 'anvil-operator-test', identity },
    });
    const widgets = m.informer<Widget>(WidgetType);
    m.addController({
      name: 'widget',
      for: widgets,
      reconciler: {
        async reconcile(req) {
          reconciled.push(req.name);
        },
      },
    });
    return m;
  }

  type LeaseSpec = { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
  const lease = async (): Promise<LeaseSpec> =>
    (await client.get<KubeObject & { spec?: LeaseSpec }>(CoreResources.lease, { namespace: 'default', name: 'anvil-operator-test' }))?.spec ?? {};
  const holder = async () => (await lease()).holderIdentity;

  it('only the leader reconciles; a standby takes over after the leader dies (lease expiry) or stops (release)', async () => {
    const byA: string[] = [];
    const byB: string[] = [];
    const byC: string[] = [];
    const a = replica('replica-a', byA);
    const b = replica('replica-b', byB);
    await a.start();
    expect(await holder()).toBe('replica-a');
    const bLeading = b.start();

    await client.create(WidgetType, widget('default', 'le-1'));
    await waitFor('leader reconciles', async () => byA.includes('le-1'));
    await sleep(3000);
    expect(byB).toEqual([]);
    expect(b.isLeader).toBe(false);

    // The leader crashes: no release, so the standby must wait for the 15 s lease to expire. The Lease records it,
    // whatever the machine's load: b's acquireTime is long after a renewal of a's read before the crash (a steal
    // would come within b's 2 s retry period).
    const beforeCrash = await lease();
    expect(beforeCrash.holderIdentity).toBe('replica-a');
    await a.kill();
    await bLeading;
    const takenOver = await lease();
    expect(takenOver.holderIdentity).toBe('replica-b');
    expect(takenOver.leaseTransitions).toBe((beforeCrash.leaseTransitions ?? 0) + 1);
    expect(Date.parse(takenOver.acquireTime!) - Date.parse(beforeCrash.renewTime!)).toBeGreaterThan(10_000);
    await waitFor('new leader reconciles existing objects', async () => byB.includes('le-1'));
    await client.create(WidgetType, widget('default', 'le-2'));
    await waitFor('new leader reconciles new objects', async () => byB.includes('le-2'));
    expect(byA).not.toContain('le-2');

    // Graceful stop hands the lease over: b releases it (no holder, a 1 s duration) as it stops, so the standby does
    // not wait for a 15 s lease to expire.
    const c = replica('replica-c', byC);
    const cLeading = c.start();
    await sleep(1000);
    expect(c.isLeader).toBe(false);
    await b.stop();
    const released = await lease();
    if (released.holderIdentity !== 'replica-c') expect(released).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    await cLeading;
    expect(await holder()).toBe('replica-c');
    await waitFor('third leader reconciles', async () => byC.includes('le-2'));
    await c.stop();
  });
});
