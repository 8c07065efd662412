import { setCondition, type Condition } from '@anvil/core/conditions';
import type { KubeObject, ResourceType } from '@anvil/core/kube';
import { MemoryKubeClient, MemorySnapshotCache } from '@anvil/core/src/kube/memory-client.js';
import type { Request } from './reconciler.js';
import { commitThenContinue, done, requeueAfter, type ReconcileResult } from './result.js';
import { StatusReconciler, type StatusKind, type StatusReconcilerOptions } from './status-reconciler.js';

type WidgetStatus = { observedGeneration?: number; conditions?: Condition[]; size?: number; cleanup?: string };
type Widget = KubeObject<{ size: number }, WidgetStatus>;

const WidgetType: ResourceType = { group: 'test.anvil.dev', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true };
const FINALIZER = 'test.anvil.dev/widget';
const req: Request = { namespace: 'ns', name: 'w1' };


/** A kind that copies spec.size into status with a Ready condition; its cleanup takes `cleanupPasses` passes. */
class Sizer implements StatusKind<Widget, WidgetStatus> {
  observed: number[] = [];
  forgotten: string[] = [];
  cleanupPasses = 1;
  failWith: Error | undefined;
  result: ReconcileResult = requeueAfter(60_000);

  async observe(w: Widget, status: WidgetStatus): Promise<ReconcileResult> {
    this.observed.push(w.spec!.size);
    if (this.failWith) {
      status.size = -1;
      throw this.failWith;
    }
    status.size = w.spec!.size;
    status.conditions = setCondition(status.conditions, { type: 'Ready', status: 'True', reason: 'Sized', message: '' }, w.metadata.generation, new Date(0));
    return this.result;
  }

  async finalize(_w: Widget, status: WidgetStatus): Promise<ReconcileResult> {
    status.cleanup = `passes left ${--this.cleanupPasses}`;
    return this.cleanupPasses > 0 ? requeueAfter(1_000) : done();
  }

  forget(r: Request): void {
    this.forgotten.push(`${r.namespace}/${r.name}`);
  }
}

async function setup(options: Partial<StatusReconcilerOptions<Widget, WidgetStatus>> = {}, size = 3) {
  const client = new MemoryKubeClient();
  await client.create<Widget>(WidgetType, { apiVersion: 'test.anvil.dev/v1', kind: 'Widget', metadata: { namespace: 'ns', name: 'w1' }, spec: { size } });
  const cache = new MemorySnapshotCache<Widget>(client, WidgetType);
  await cache.sync();
  const kind = new Sizer();
  const reconciler = new StatusReconciler<Widget, WidgetStatus>({ client, type: WidgetType, cache, kind, finalizer: FINALIZER, ...options });
  const stored = async (): Promise<Widget | undefined> => client.get<Widget>(WidgetType, req);
  const pass = async (): Promise<ReconcileResult> => {
    const result = await reconciler.reconcile(req);
    await cache.sync();
    return result;
  };
  return { client, cache, kind, reconciler, stored, pass };
}

describe('StatusReconciler', () => {
  it('adds the finalizer, writes the decision with observedGeneration, returns the kind result, and writes nothing when unchanged', async () => {
    const { client, stored, pass } = await setup();
    expect(await pass()).toEqual(requeueAfter(60_000));
    const w = await stored();
    expect(w?.metadata.finalizers).toEqual([FINALIZER]);
    expect(w?.status).toMatchObject({ size: 3, observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', observedGeneration: 1 }] });
    expect(client.writes).toEqual(['create Widget ns/w1', 'patch Widget ns/w1', 'patch Widget ns/w1 status']);

    expect(await pass()).toEqual(requeueAfter(60_000));
    expect(client.writes).toHaveLength(3);
  });

  it('stamps the generation the decision was made on after a spec change', async () => {
    const { client, cache, stored, pass } = await setup();
    await pass();
    await client.patch(WidgetType, req, 'merge', { spec: { size: 5 } });
    await cache.sync();
    await pass();
    expect((await stored())?.status).toMatchObject({ size: 5, observedGeneration: 2, conditions: [{ observedGeneration: 2 }] });
  });

  it('leaves a paused object alone, unless the kind is not pausable', async () => {
    const paused = await setup();
    await paused.client.patch(WidgetType, req, 'merge', { metadata: { annotations: { 'anvil.dev/paused': 'true' } } });
    await paused.cache.sync();
    expect(await paused.pass()).toEqual(done());
    expect(paused.kind.observed).toEqual([]);
    expect((await paused.stored())?.status).toBeUndefined();

    const unpausable = await setup({ pausable: false });
    await unpausable.client.patch(WidgetType, req, 'merge', { metadata: { annotations: { 'anvil.dev/paused': 'true' } } });
    await unpausable.cache.sync();
    await unpausable.pass();
    expect(unpausable.kind.observed).toEqual([3]);
  });

  it('on deletion writes the cleanup status until finalize is done, then removes the finalizer', async () => {
    const { client, kind, cache, stored, pass } = await setup();
    await pass();
    kind.cleanupPasses = 2;
    await client.delete(WidgetType, req);
    await cache.sync();
    expect(await pass()).toEqual(requeueAfter(1_000));
    expect((await stored())?.status?.cleanup).toBe('passes left 1');
    expect((await stored())?.metadata.finalizers).toEqual([FINALIZER]);
    expect(await pass()).toEqual(done());
    expect(await stored()).toBeUndefined();
    expect(kind.observed).toEqual([3]);
    // Gone from the cache: the kind forgets it.
    expect(await pass()).toEqual(done());
    expect(kind.forgotten).toEqual(['ns/w1']);
  });

  it('without a finalizer, a deleted object is only forgotten', async () => {
    const { client, kind, cache, stored, pass } = await setup({ finalizer: undefined });
    await pass();
    expect((await stored())?.metadata.finalizers).toBeUndefined();
    await client.patch(WidgetType, req, 'merge', { metadata: { finalizers: ['someone-else'] } });
    await client.delete(WidgetType, req);
    await cache.sync();
    expect(await pass()).toEqual(done());
    expect(kind.forgotten).toEqual(['ns/w1']);
    expect(kind.observed).toEqual([3]);
  });

  it('writes nothing when the decision throws', async () => {
    const { client, kind, reconciler, cache } = await setup({ finalizer: undefined });
    kind.failWith = new Error('BMC unreachable');
    await expect(reconciler.reconcile(req)).rejects.toThrow('BMC unreachable');
    await cache.sync();
    expect(client.writes).toEqual(['create Widget ns/w1']);
  });

  it('leaves observedGeneration to its owner when asked to', async () => {
    const { stored, pass } = await setup({ observedGeneration: false, finalizer: undefined });
    await pass();
    expect((await stored())?.status?.observedGeneration).toBeUndefined();
    expect((await stored())?.status?.size).toBe(3);
  });

  it('passes commitThenContinue through after committing the status', async () => {
    const { kind, stored, pass } = await setup();
    kind.result = commitThenContinue();
    expect(await pass()).toEqual(commitThenContinue());
    expect((await stored())?.status?.size).toBe(3);
  });

  it('throws the conflict when its decisions were made on a stale object (rebaseOnConflict false)', async () => {
    const { client, reconciler, cache } = await setup({ rebaseOnConflict: false, finalizer: undefined });
    await client.patch(WidgetType, req, 'merge', { metadata: { labels: { moved: 'on' } } });
    // The cache still holds the version before the label: the status write's precondition fails.
    await expect(reconciler.reconcile(req)).rejects.toMatchObject({ code: 409 });
    await cache.sync();
    await expect(reconciler.reconcile(req)).resolves.toEqual(requeueAfter(60_000));
  });

  it('reads from the API server when the cache still holds the version its own last write replaced', async () => {
    const { client, kind, reconciler, cache, stored } = await setup({ readAfterOwnWrite: true, finalizer: undefined });
    await reconciler.reconcile(req);
    // The cache has not caught up with our write; meanwhile the spec changed.
    await client.patch(WidgetType, req, 'merge', { spec: { size: 7 } });
    await reconciler.reconcile(req);
    expect(kind.observed).toEqual([3, 7]);
    expect((await stored())?.status).toMatchObject({ size: 7, observedGeneration: 2 });
    await cache.sync();
  });
});
