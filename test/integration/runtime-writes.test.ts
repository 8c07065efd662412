// Status/patch helper, finalizers, events and the controller loop against a real kube-apiserver
// (with kube-controller-manager for garbage collection of owned objects).
import { jest } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { setCondition } from '@anvil/core/conditions';
import { silentLogger } from '@anvil/core/logging';
import { PatchHelper } from '@anvil/operator/src/runtime/patch-helper.js';
import { addFinalizer, removeFinalizer } from '@anvil/operator/src/runtime/finalizers.js';
import { KubeEventRecorder } from '@anvil/operator/src/runtime/events.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { setControllerReference } from '@anvil/operator/src/runtime/owner-references.js';
import type { Request } from '@anvil/operator/src/runtime/reconciler.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { WidgetType, widget, widgetCrd, type Widget } from '../fixtures/widget.js';

jest.setTimeout(120_000);

describe('runtime writes on a real API server', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let requests = 0;

  beforeAll(async () => {
    cp = await startControlPlane({ controllerManager: true });
    client = clientFor(cp, () => requests++);
    await installCrds(client, [widgetCrd]);
    await ensureNamespace(client, 'writes');
  });

  afterAll(async () => {
    await cp?.stop();
  });

  const key = (name: string) => ({ namespace: 'writes', name });

  it('writes status only when it changed', async () => {
    const created = await client.create(WidgetType, widget('writes', 'quiet'));
    const h1 = new PatchHelper(client, WidgetType, created);
    const changed = structuredClone(created);
    changed.status = { phase: 'Ready', observedGeneration: 1 };
    const first = await h1.patch(changed);
    expect(first.writes).toBe(1);
    const rv = first.object.metadata.resourceVersion;
    const h2 = new PatchHelper(client, WidgetType, first.object);
    const again = await h2.patch(structuredClone(first.object));
    expect(again.writes).toBe(0);
    expect((await client.get(WidgetType, key('quiet')))?.metadata.resourceVersion).toBe(rv);
  });

  it('patches metadata/spec and status separately', async () => {
    const created = await client.create(WidgetType, widget('writes', 'split', 1));
    const helper = new PatchHelper(client, WidgetType, created);
    const after = structuredClone(created);
    after.metadata.labels = { tier: 'gold' };
    after.spec = { size: 3 };
    after.status = { phase: 'Sized' };
    const out = await helper.patch(after);
    expect(out.writes).toBe(2);
    const got = await client.get<Widget>(WidgetType, key('split'));
    expect(got?.metadata.labels).toEqual({ tier: 'gold' });
    expect(got?.spec?.size).toBe(3);
    expect(got?.status?.phase).toBe('Sized');
    expect(got?.metadata.generation).toBe(2);
  });

  it('two writers: the second gets 409 Conflict, retries, and both condition changes survive', async () => {
    await client.create(WidgetType, widget('writes', 'contended'));
    const a = (await client.get<Widget>(WidgetType, key('contended')))!;
    const b = structuredClone(a);
    const ha = new PatchHelper(client, WidgetType, a);
    const hb = new PatchHelper(client, WidgetType, b);
    a.status = { conditions: setCondition(a.status?.conditions, { type: 'Alpha', status: 'True', reason: 'A' }, 1) };
    b.status = { phase: 'B', conditions: setCondition(b.status?.conditions, { type: 'Beta', status: 'False', reason: 'B' }, 1) };
    const ra = await ha.patch(a);
    expect(ra.conflicts).toBe(0);
    const rb = await hb.patch(b);
    expect(rb.conflicts).toBeGreaterThanOrEqual(1);
    const got = await client.get<Widget>(WidgetType, key('contended'));
    expect(got?.status?.conditions?.map((c) => `${c.type}=${c.status}`).sort()).toEqual(['Alpha=True', 'Beta=False']);
    expect(got?.status?.phase).toBe('B');
  });

  it('adds and removes finalizers without clobbering another writer', async () => {
    const stale = await client.create(WidgetType, widget('writes', 'fin'));
    // Another controller adds its finalizer after we read the object.
    await client.patch(WidgetType, key('fin'), 'merge', { metadata: { finalizers: ['other.example.com/cleanup'] } });
    await addFinalizer(client, WidgetType, stale, 'anvil.dev/test');
    let got = (await client.get(WidgetType, key('fin')))!;
    expect(got.metadata.finalizers?.sort()).toEqual(['anvil.dev/test', 'other.example.com/cleanup']);
    await client.delete(WidgetType, key('fin'));
    got = (await client.get(WidgetType, key('fin')))!;
    expect(got.metadata.deletionTimestamp).toBeDefined();
    await removeFinalizer(client, WidgetType, got, 'anvil.dev/test');
    got = (await client.get(WidgetType, key('fin')))!;
    expect(got.metadata.finalizers).toEqual(['other.example.com/cleanup']);
    await removeFinalizer(client, WidgetType, got, 'other.example.com/cleanup');
    await waitFor('object gone once the last finalizer is removed', async () => (await client.get(WidgetType, key('fin'))) === undefined);
  });

  it('records events.k8s.io/v1 events and folds repeats into a series', async () => {
    const obj = await client.create(WidgetType, widget('writes', 'noisy'));
    const recorder = new KubeEventRecorder(client, 'anvil.dev/test', 'test-1', silentLogger());
    for (let i = 0; i < 3; i++) recorder.event(obj, 'Warning', 'Flapping', 'Reconcile', 'it flaps');
    recorder.event(obj, 'Normal', 'Calm', 'Reconcile', 'calm now');
    await recorder.flush();
    await waitFor('series count 3', async () => {
      const list = await client.list<KubeObject & { reason?: string; series?: { count: number } }>(CoreResources.event, { namespace: 'writes' });
      const mine = list.items.filter((e) => (e.regarding as { uid?: string })?.uid === obj.metadata.uid);
      const flapping = mine.filter((e) => e.reason === 'Flapping');
      return mine.length === 2 && flapping.length === 1 && flapping[0]?.series?.count === 3;
    });
  });

  it('runs a controller: reconciles on change, retries errors with backoff, never the same key twice at once, counts metrics', async () => {
    const manager = new Manager({ client, log: silentLogger(), namespaces: ['writes'], identity: 'test', healthPort: 0, healthHost: '127.0.0.1' });
    const widgets = manager.informer<Widget>(WidgetType);
    const configMaps = manager.informer(CoreResources.configMap);
    const calls: string[] = [];
    const active = new Set<string>();
    let overlaps = 0;
    let failuresLeft = 3;
    manager.addController({
      name: 'widget',
      for: widgets,
      owns: [configMaps],
      maxConcurrentReconciles: 4,
      reconciler: {
        async reconcile(req: Request) {
          const k = `${req.namespace}/${req.name}`;
          if (active.has(k)) overlaps++;
          active.add(k);
          try {
            calls.push(req.name);
            await sleep(5);
            const obj = widgets.get(req.namespace, req.name);
            if (!obj || !req.name.startsWith('ctl-')) return;
            if (req.name === 'ctl-flaky' && failuresLeft-- > 0) throw new Error('transient');
            const helper = new PatchHelper(client, WidgetType, obj);
            const next = structuredClone(obj);
            next.status = { ...next.status, observedGeneration: obj.metadata.generation!, phase: `size-${obj.spec?.size}` };
            await helper.patch(next);
          } finally {
            active.delete(k);
          }
        },
      },
    });
    await manager.start();
    try {
      await client.create(WidgetType, widget('writes', 'ctl-flaky', 1));
      await client.create(WidgetType, widget('writes', 'ctl-busy', 1));
      for (let i = 2; i <= 10; i++) await client.patch(WidgetType, key('ctl-busy'), 'merge', { spec: { size: i } });
      await waitFor('flaky reconciled after retries', async () => (await client.get<Widget>(WidgetType, key('ctl-flaky')))?.status?.phase === 'size-1');
      await waitFor('busy converged to the last spec', async () => {
        const w = await client.get<Widget>(WidgetType, key('ctl-busy'));
        return w?.status?.phase === 'size-10' && w.status.observedGeneration === w.metadata.generation;
      });
      expect(overlaps).toBe(0);
      expect(calls.filter((c) => c === 'ctl-flaky').length).toBeGreaterThanOrEqual(4);

      // An owned ConfigMap's change enqueues its owner; deleting the owner garbage-collects it.
      const owner = (await client.get<Widget>(WidgetType, key('ctl-busy')))!;
      const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'writes', name: 'busy-config' }, data: { a: '1' } };
      setControllerReference(cm, owner);
      const before = calls.filter((c) => c === 'ctl-busy').length;
      await client.create(CoreResources.configMap, cm);
      await waitFor('owner enqueued by owned object', async () => calls.filter((c) => c === 'ctl-busy').length > before);
      await client.delete(WidgetType, key('ctl-busy'), { propagationPolicy: 'Background' });
      await waitFor('owned ConfigMap garbage-collected', async () => (await client.get(CoreResources.configMap, { namespace: 'writes', name: 'busy-config' })) === undefined, 60_000);

      const port = manager.healthAddress!.port;
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/controller_runtime_reconcile_total\{controller="widget",result="error"\} 3/);
      expect(metrics).toMatch(/controller_runtime_reconcile_errors_total\{controller="widget"\} 3/);
      expect(metrics).toMatch(/workqueue_adds_total\{name="widget",controller="widget"\} \d+/);
      expect(metrics).toMatch(/workqueue_retries_total\{name="widget",controller="widget"\} 3/);
      expect(metrics).toContain('workqueue_queue_duration_seconds_bucket');
      expect(metrics).toContain('controller_runtime_reconcile_time_seconds_bucket');
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      await manager.stop();
    }
  });
});
