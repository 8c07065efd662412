import type { InformerHandlers } from '@anvil/core/kube';
import type { KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { ApiError } from '@anvil/core/kube';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { Controller, watch, type ControllerOptions } from './controller.js';
import { ControllerMetrics } from './metrics.js';
import type { Request } from './reconciler.js';

/** The part of an InformerSet a controller uses: its type and its handlers. */
function fakeSource<T extends KubeObject = KubeObject>() {
  const handlers: InformerHandlers<T>[] = [];
  return {
    type: { group: 'anvil.dev', version: 'v1alpha1', kind: 'Thing', plural: 'things', namespaced: true },
    addHandlers: (h: InformerHandlers<T>) => void handlers.push(h),
    handlers,
  };
}

/** Gives the event loop turns until the condition holds (counted in turns, not time). */
async function turnsUntil(condition: () => boolean): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn > 10_000) throw new Error('condition never held');
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

const obj = (name: string): KubeObject => ({ metadata: { namespace: 'ns', name, resourceVersion: '1' } });

describe('Controller', () => {
  it('type-checks a kind\'s wiring: the predicate and each watch map take the objects of their own cache', async () => {
    type Thing = KubeObject<{ size: number }>;
    type Paint = KubeObject<{ color: string }>;
    const things = fakeSource<Thing>();
    const paints = fakeSource<Paint>();
    const reconciled: string[] = [];
    const options: ControllerOptions<Thing> = {
      name: 'things',
      for: things,
      updatePredicate: (o, n) => o.spec?.size !== n.spec?.size,
      watches: [watch(paints, (p) => [{ namespace: 'ns', name: `for-${p.spec?.color}` }])],
      reconciler: { reconcile: async (r: Request) => void reconciled.push(r.name) },
    };
    // @ts-expect-error a map written for one kind cannot watch another
    watch(paints, (t: Thing) => [{ name: String(t.spec?.size) }]);
    const controller = new Controller(options, new ControllerMetrics(undefined, false), silentLogger());
    controller.start();
    const thing: Thing = { metadata: { namespace: 'ns', name: 't', resourceVersion: '2' }, spec: { size: 1 } };
    // Same size: dropped by the predicate (it would otherwise be reconciled before the paint, the queue being FIFO).
    things.handlers[0]!.onUpdate!({ ...thing, metadata: { ...thing.metadata, resourceVersion: '1' } }, thing);
    paints.handlers[0]!.onAdd!({ metadata: { namespace: 'ns', name: 'p' }, spec: { color: 'red' } });
    await turnsUntil(() => reconciled.length >= 1);
    expect(reconciled).toEqual(['for-red']);
    things.handlers[0]!.onUpdate!(thing, { ...thing, spec: { size: 2 } });
    await turnsUntil(() => reconciled.length >= 2);
    await controller.stop();
    expect(reconciled).toEqual(['for-red', 't']);
  });

  it('gives the event loop a turn between reconciles that need no I/O', async () => {
    const source = fakeSource();
    const done: string[] = [];
    let allDone!: () => void;
    const finished = new Promise<void>((resolve) => (allDone = resolve));
    const reconcile = async (r: Request): Promise<void> => {
      done.push(r.name);
      if (done.length === 1000) allDone();
    };
    const controller = new Controller(
      { name: 'things', for: source, maxConcurrentReconciles: 4, reconciler: { reconcile } },
      new ControllerMetrics(undefined, false),
      silentLogger(),
    );
    controller.start();
    for (let i = 0; i < 1000; i++) source.handlers[0]!.onAdd!(obj(`t${i}`));
    // A macrotask queued now must run long before the thousand reconciles are done: counted in reconciles, not ms.
    const seenByMacrotask = await new Promise<number>((resolve) => setImmediate(() => resolve(done.length)));
    expect(seenByMacrotask).toBeLessThan(100);
    await finished;
    expect(new Set(done).size).toBe(1000);
    await controller.stop();
  });

  it('enqueues secondary kinds on change, not on their resync (the primary resync covers every object)', async () => {
    const primary = fakeSource();
    const owned = fakeSource();
    const watched = fakeSource();
    const reconciled: string[] = [];
    const controller = new Controller(
      {
        name: 'things',
        for: primary,
        owns: [owned],
        watches: [{ source: watched, map: () => [{ namespace: 'ns', name: 'mapped' }] }],
        reconciler: { reconcile: async (r: Request) => void reconciled.push(r.name) },
      },
      new ControllerMetrics(undefined, false),
      silentLogger(),
    );
    controller.start();
    const child: KubeObject = { metadata: { namespace: 'ns', name: 'child', ownerReferences: [{ apiVersion: 'anvil.dev/v1alpha1', kind: 'Thing', name: 'owner', uid: 'u', controller: true }] } };
    // One worker takes keys in order: once a marker added last is reconciled, everything enqueued before it was.
    let markers = 0;
    const settle = async (): Promise<void> => {
      const marker = `marker-${++markers}`;
      primary.handlers[0]!.onAdd!(obj(marker));
      for (let turn = 0; !reconciled.includes(marker); turn++) {
        if (turn > 10_000) throw new Error(`${marker} was never reconciled`);
        await new Promise((r) => setImmediate(r));
      }
      reconciled.splice(reconciled.indexOf(marker), 1);
    };
    owned.handlers[0]!.onUpdate!(child, child); // resync
    watched.handlers[0]!.onUpdate!(obj('w'), obj('w')); // a change (different objects)
    const w = obj('w');
    watched.handlers[0]!.onUpdate!(w, w); // resync
    await settle();
    expect(reconciled).toEqual(['mapped']);
    owned.handlers[0]!.onUpdate!(child, { ...child, metadata: { ...child.metadata, resourceVersion: '2' } });
    const p = obj('p');
    primary.handlers[0]!.onUpdate!(p, p); // the primary kind's resync does enqueue
    await settle();
    expect(reconciled.sort()).toEqual(['mapped', 'owner', 'p']);
    await controller.stop();
  });
  it('retries a conflict quietly (debug) and logs any other failure as an error', async () => {
    const source = fakeSource();
    const lines: { level: number; msg: string; key?: string }[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(JSON.parse(String(chunk))), cb()) });
    const calls = new Map<string, number>();
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const reconcile = async (r: Request): Promise<void> => {
      const n = (calls.get(r.name) ?? 0) + 1;
      calls.set(r.name, n);
      if (calls.get('stale') === 2 && (calls.get('broken') ?? 0) >= 1) settle();
      if (n > 1) return;
      if (r.name === 'stale') throw new ApiError(409, 'Conflict', 'the object has been modified');
      if (r.name === 'broken') throw new Error('boom');
    };
    const controller = new Controller(
      { name: 'things', for: source, maxConcurrentReconciles: 1, reconciler: { reconcile } },
      new ControllerMetrics(undefined, false),
      pino({ level: 'debug' }, sink),
    );
    controller.start();
    source.handlers[0]!.onAdd!(obj('stale'));
    source.handlers[0]!.onAdd!(obj('broken'));
    await settled;
    await controller.stop();
    const errors = lines.filter((l) => l.level >= 50);
    expect(errors.map((l) => l.key)).toEqual(['ns/broken']);
    expect(lines.find((l) => l.key === 'ns/stale')).toMatchObject({ level: 20, msg: expect.stringContaining('conflict') });
  });
});
