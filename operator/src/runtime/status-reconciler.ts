// The reconcile every status-owning controller shares, as cluster-api's controllers do it: read the object from the
// cache → paused? → being deleted (the kind's cleanup, then our finalizer off) → our finalizer on → the kind's
// decision, written into a status draft → only what changed in status patched (conditions merged by type,
// observedGeneration stamped) → the kind's ReconcileResult. A kind supplies only its decision and its cleanup.
import { PAUSED_ANNOTATION } from '@anvil/core/api';
import type { Condition } from '@anvil/core/conditions';
import type { CacheReader, KubeClient, KubeObject, ResourceType } from '@anvil/core/kube';
import { addFinalizer, hasFinalizer, removeFinalizer } from './finalizers.js';
import { PatchHelper } from './patch-helper.js';
import { requestKey, type Reconciler, type Request } from './reconciler.js';
import { done, type ReconcileResult } from './result.js';

/** The status fields the skeleton itself maintains. */
export interface ManagedStatus {
  observedGeneration?: number;
  conditions?: Condition[];
}

/** What a kind brings to the skeleton. */
export interface StatusKind<T extends KubeObject<unknown, S>, S extends ManagedStatus> {
  /**
   * Observes the world and decides: fills `status` (a draft of the object's status) and says when to come back.
   * Throw for an error to retry with backoff (nothing is written then).
   */
  observe(obj: T, status: S): Promise<ReconcileResult>;
  /**
   * Cleanup while the object is being deleted (with the finalizer still on): done removes the finalizer, anything
   * else writes the status draft and comes back. Without it the finalizer is removed at once.
   */
  finalize?(obj: T, status: S): Promise<ReconcileResult>;
  /** The object is gone (or being deleted without a finalizer of ours): drop what is remembered about it. */
  forget?(request: Request): Promise<void> | void;
}

export interface StatusReconcilerOptions<T extends KubeObject<unknown, S>, S extends ManagedStatus> {
  client: KubeClient;
  type: ResourceType;
  cache: CacheReader<T>;
  kind: StatusKind<T, S>;
  /** Added before the first decision and removed after finalize; none: deletion only calls forget. */
  finalizer?: string;
  /** Whether the paused annotation stops reconciling (default true). */
  pausable?: boolean;
  /** Whether to stamp status.observedGeneration (default true; false when another controller owns the status). */
  observedGeneration?: boolean;
  /**
   * On a 409, re-apply the status change to the latest object (true, the default: for writers whose status comes from
   * outside, e.g. a BMC) or retry the whole reconcile on fresh data (false: for decisions made on what was read).
   */
  rebaseOnConflict?: boolean;
  /**
   * Read the object from the API server when the cache still holds the version our last write replaced: for kinds
   * whose decision (starting a remote task, say) must never be made twice on a stale copy.
   */
  readAfterOwnWrite?: boolean;
}

export class StatusReconciler<T extends KubeObject<unknown, S>, S extends ManagedStatus> implements Reconciler {
  /** Per object, the resourceVersion our last status write replaced (readAfterOwnWrite only). */
  private readonly replaced = new Map<string, string>();

  constructor(private readonly options: StatusReconcilerOptions<T, S>) {}

  async reconcile(req: Request): Promise<ReconcileResult> {
    const { kind, finalizer } = this.options;
    const cached = await this.read(req);
    if (!cached) {
      await kind.forget?.(req);
      return done();
    }
    if ((this.options.pausable ?? true) && cached.metadata.annotations?.[PAUSED_ANNOTATION] === 'true') return done();
    let obj = structuredClone(cached);
    if (obj.metadata.deletionTimestamp) {
      if (finalizer === undefined) {
        await kind.forget?.(req);
        return done();
      }
      return hasFinalizer(obj, finalizer) ? this.finalize(req, obj, finalizer) : done();
    }
    if (finalizer !== undefined && !hasFinalizer(obj, finalizer)) obj = await addFinalizer(this.options.client, this.options.type, obj, finalizer);

    const draft = structuredClone(obj);
    const status = (draft.status ??= {} as S);
    const result = await kind.observe(obj, status);
    const generation = obj.metadata.generation;
    if ((this.options.observedGeneration ?? true) && generation !== undefined) status.observedGeneration = generation;
    await this.patch(req, obj, draft);
    return result;
  }

  private async finalize(req: Request, obj: T, finalizer: string): Promise<ReconcileResult> {
    const draft = structuredClone(obj);
    const status = (draft.status ??= {} as S);
    const result = this.options.kind.finalize ? await this.options.kind.finalize(obj, status) : done();
    if (result.kind !== 'done') {
      await this.patch(req, obj, draft);
      return result;
    }
    await removeFinalizer(this.options.client, this.options.type, obj, finalizer);
    this.replaced.delete(requestKey(req));
    return done();
  }

  private async read(req: Request): Promise<T | undefined> {
    const cached = this.options.cache.get(req.namespace, req.name);
    if (!this.options.readAfterOwnWrite) return cached;
    const key = requestKey(req);
    const replaced = this.replaced.get(key);
    this.replaced.delete(key);
    if (!cached || cached.metadata.resourceVersion !== replaced) return cached;
    return this.options.client.get<T>(this.options.type, { ...(req.namespace ? { namespace: req.namespace } : {}), name: req.name });
  }

  private async patch(req: Request, before: T, after: T): Promise<void> {
    const helper = new PatchHelper(this.options.client, this.options.type, before, { rebaseOnConflict: this.options.rebaseOnConflict ?? true });
    const outcome = await helper.patch(after);
    const rv = before.metadata.resourceVersion;
    if (this.options.readAfterOwnWrite && outcome.writes && rv) this.replaced.set(requestKey(req), rv);
  }
}
