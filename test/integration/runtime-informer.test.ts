// The informer against a real kube-apiserver: create/update/delete, a forced 410 Gone (etcd compaction while the
// client is cut off), and an apiserver restart — recovered without missing or duplicating anything.
import { jest } from '@jest/globals';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RestKubeClient, loadKubeConfig } from '@anvil/core/kube/rest-client';
import { ApiError, type KubeClient } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { Informer } from '@anvil/core/kube';
import { startControlPlane, writeKubeconfig, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, installCrds, waitFor } from '../harness/kube.js';
import { TcpProxy } from '../harness/tcp-proxy.js';
import { WidgetType, widget, widgetCrd, type Widget } from '../fixtures/widget.js';

jest.setTimeout(120_000);

describe('informer on a real API server', () => {
  let cp: ControlPlane;
  let admin: KubeClient;
  let proxy: TcpProxy;
  let viaProxy: KubeClient;

  beforeAll(async () => {
    // No watch cache: watches are served by etcd, so a compacted resourceVersion really answers 410 Gone.
    cp = await startControlPlane({ etcdCompactionInterval: '3s', apiServerArgs: ['--watch-cache=false'] });
    admin = clientFor(cp);
    await installCrds(admin, [widgetCrd]);
    proxy = new TcpProxy(cp.port);
    const port = await proxy.start();
    const kubeconfig = join(cp.dir, 'kubeconfig-proxy');
    writeKubeconfig(kubeconfig, `https://127.0.0.1:${port}`, cp.caFile, cp.token);
    viaProxy = new RestKubeClient(loadKubeConfig(kubeconfig), { requestTimeoutMs: 5000 });
  });

  afterAll(async () => {
    await proxy?.stop();
    await cp?.stop();
  });

  function track(informer: Informer<Widget>) {
    const seen = { adds: new Map<string, number>(), deletes: new Map<string, number>(), updates: [] as { name: string; size?: number }[] };
    const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    informer.addHandlers({
      onAdd: (o) => bump(seen.adds, o.metadata.name!),
      onUpdate: (_old, o) => seen.updates.push({ name: o.metadata.name!, ...(o.spec?.size !== undefined ? { size: o.spec.size } : {}) }),
      onDelete: (o) => bump(seen.deletes, o.metadata.name!),
    });
    return seen;
  }

  it('sees creates, updates and deletes', async () => {
    const informer = new Informer<Widget>(admin, WidgetType, silentLogger(), { namespace: 'default' });
    const seen = track(informer);
    informer.start();
    await informer.waitForSync();
    await admin.create(WidgetType, widget('default', 'crud-a', 1));
    await waitFor('add', async () => seen.adds.get('crud-a') === 1);
    await admin.patch(WidgetType, { namespace: 'default', name: 'crud-a' }, 'merge', { spec: { size: 7 } });
    await waitFor('update', async () => seen.updates.some((u) => u.name === 'crud-a' && u.size === 7));
    expect(informer.get('default/crud-a')?.spec?.size).toBe(7);
    await admin.delete(WidgetType, { namespace: 'default', name: 'crud-a' });
    await waitFor('delete', async () => seen.deletes.get('crud-a') === 1);
    expect(informer.get('default/crud-a')).toBeUndefined();
    await informer.stop();
  });

  it('relists after 410 Gone without missing or duplicating events', async () => {
    const ns = 'default';
    for (const n of ['gone-1', 'gone-2', 'gone-3']) await admin.create(WidgetType, widget(ns, n));
    const informer = new Informer<Widget>(viaProxy, WidgetType, silentLogger(), { namespace: ns, backoffInitialMs: 100, backoffMaxMs: 500 });
    const seen = track(informer);
    informer.start();
    await informer.waitForSync();
    expect([...seen.adds.keys()].filter((k) => k.startsWith('gone-')).sort()).toEqual(['gone-1', 'gone-2', 'gone-3']);

    proxy.block(); // the informer is offline from here
    await sleep(300);
    // No newer than what the informer has seen: nothing was written since it synced.
    const informerSaw = (await admin.list(WidgetType, { namespace: ns })).resourceVersion;
    for (const n of ['gone-4', 'gone-5', 'gone-6']) await admin.create(WidgetType, widget(ns, n));
    await admin.delete(WidgetType, { namespace: ns, name: 'gone-1' });
    await admin.patch(WidgetType, { namespace: ns, name: 'gone-2' }, 'merge', { spec: { size: 5 } });
    // Let the API server compact etcd past the informer's resourceVersion (compaction runs every 3 s and
    // compacts to the revision of the previous run), with writes between runs so the revision moves on. Compacted
    // once a list at that exact revision (a paged one: served from etcd at it) answers 410 Gone.
    let writes = 0;
    await waitFor(`etcd compacted past revision ${informerSaw}`, async () => {
      await admin.patch(WidgetType, { namespace: ns, name: 'gone-3' }, 'merge', { spec: { size: 100 + writes++ } });
      try {
        await admin.list(WidgetType, { namespace: ns, limit: 1, resourceVersion: informerSaw });
        return false;
      } catch (err) {
        if (err instanceof ApiError && err.code === 410) return true;
        throw err;
      }
    }, 60_000, 1000);
    proxy.resume();

    await waitFor('relist after 410', async () => informer.stats.relistsOnGone >= 1, 30_000);
    await waitFor('cache caught up', async () => informer.get(`${ns}/gone-6`) !== undefined && informer.get(`${ns}/gone-1`) === undefined, 30_000);
    const names = informer.list().map((o) => o.metadata.name).filter((n) => n!.startsWith('gone-')).sort();
    expect(names).toEqual(['gone-2', 'gone-3', 'gone-4', 'gone-5', 'gone-6']);
    for (const n of ['gone-1', 'gone-2', 'gone-3', 'gone-4', 'gone-5', 'gone-6']) expect(seen.adds.get(n)).toBe(1);
    expect(seen.deletes.get('gone-1')).toBe(1);
    expect([...seen.deletes.keys()].filter((k) => k !== 'gone-1' && k.startsWith('gone-'))).toEqual([]);
    expect(informer.get(`${ns}/gone-2`)?.spec?.size).toBe(5);
    expect(seen.updates.some((u) => u.name === 'gone-2' && u.size === 5)).toBe(true);
    await informer.stop();
  });

  it('keeps working across an apiserver restart', async () => {
    const informer = new Informer<Widget>(admin, WidgetType, silentLogger(), { namespace: 'default', backoffInitialMs: 100, backoffMaxMs: 1000 });
    const seen = track(informer);
    informer.start();
    await informer.waitForSync();
    await cp.restartApiServer();
    await admin.create(WidgetType, widget('default', 'after-restart'));
    await waitFor('add after restart', async () => seen.adds.get('after-restart') === 1, 30_000);
    expect(informer.stats.watchErrors + informer.stats.relistsOnGone).toBeGreaterThanOrEqual(1);
    await informer.stop();
  });
});
