// A controller: informer events become keys in a work queue; a bounded pool of workers reconciles them.
import type { Logger } from 'pino';
import { isConflict, keyOf, type InformerHandlers, type KubeObject, type ResourceType } from '@anvil/core/kube';
import type { ControllerMetrics } from './metrics.js';
import { ItemExponentialBackoff } from './rate-limiter.js';
import { parseRequestKey, requestKey, type Reconciler, type Request } from './reconciler.js';
import { done } from './result.js';
import { WorkQueue } from './workqueue.js';
import { controllerOf } from './owner-references.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a controller needs of a cache (an InformerSet): its kind, and to be told of changes. */
export interface EventSource<T extends KubeObject> {
  readonly type: ResourceType;
  addHandlers(handlers: InformerHandlers<T>): void;
}

/** A secondary kind whose changes affect objects of the primary kind. Build one with watch() so the map type-checks. */
export interface Watch<S extends KubeObject = KubeObject> {
  source: EventSource<S>;
  /** Maps a changed object to the requests it affects. */
  map: (obj: S) => Request[];
}

/** A Watch whose map is checked against its source's kind, for a list of watches of different kinds. */
export const watch = <S extends KubeObject>(source: EventSource<S>, map: (obj: S) => Request[]): Watch<never> => ({ source, map });

export interface ControllerOptions<T extends KubeObject = KubeObject> {
  name: string;
  /** The primary kind; every change to an object enqueues that object. */
  for: EventSource<T>;
  /** Kinds whose controller ownerReference points at the primary kind. */
  owns?: readonly EventSource<KubeObject>[];
  /** Secondary kinds, each with its own object type (see watch()). */
  watches?: readonly Watch<never>[];
  reconciler: Reconciler;
  maxConcurrentReconciles?: number;
  /** Drops update events the reconciler does not care about (e.g. status-only changes). */
  updatePredicate?: (oldObj: T, newObj: T) => boolean;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export class Controller<T extends KubeObject = KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  private readonly workers: Promise<void>[] = [];
  private started = false;
  private readonly workerGauge: { busy(): void; idle(): void };

  constructor(
    private readonly options: ControllerOptions<T>,
    private readonly metrics: ControllerMetrics,
    private readonly log: Logger,
  ) {
    this.name = options.name;
    this.queue = new WorkQueue(new ItemExponentialBackoff(options.backoffBaseMs ?? 5, options.backoffMaxMs ?? 1_000_000), metrics.queueMetrics(options.name));
    this.workerGauge = metrics.workers(options.name, this.concurrency);
  }

  get concurrency(): number {
    return this.options.maxConcurrentReconciles ?? 1;
  }

  get primaryType(): ResourceType {
    return this.options.for.type;
  }

  /** Registers event handlers and starts the workers. The informers must already be started. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const enqueueObj = (obj: KubeObject): void => this.queue.add(keyOf(obj));
    const predicate = this.options.updatePredicate;
    this.options.for.addHandlers({
      onAdd: enqueueObj,
      onUpdate: (o, n) => {
        if (!predicate || o === n || predicate(o, n)) enqueueObj(n);
      },
      onDelete: enqueueObj,
    });
    const primary = this.options.for.type;
    const primaryApiVersion = primary.group ? `${primary.group}/${primary.version}` : primary.version;
    for (const owned of this.options.owns ?? []) {
      const enqueueOwner = (obj: KubeObject): void => {
        const ref = controllerOf(obj);
        if (ref && ref.kind === primary.kind && ref.apiVersion.split('/')[0] === primaryApiVersion.split('/')[0]) {
          this.queue.add(requestKey({ name: ref.name, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}) }));
        }
      };
      // A resync (o === n) of a secondary kind would only enqueue again what the primary kind's resync enqueues.
      owned.addHandlers({ onAdd: enqueueOwner, onUpdate: (o, n) => o !== n && enqueueOwner(n), onDelete: enqueueOwner });
    }
    for (const w of this.options.watches ?? []) {
      const enqueueMapped = (obj: never): void => {
        for (const r of w.map(obj)) this.queue.add(requestKey(r));
      };
      w.source.addHandlers({ onAdd: enqueueMapped, onUpdate: (o, n) => o !== n && enqueueMapped(n), onDelete: enqueueMapped });
    }
    for (let i = 0; i < this.concurrency; i++) this.workers.push(this.worker());
    this.log.debug({ workers: this.concurrency }, 'controller started');
  }

  /** Stops taking new work and waits for reconciles in flight to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.workerGauge.busy();
      try {
        await this.process(key);
      } finally {
        this.queue.done(key);
        this.workerGauge.idle();
      }
      // A reconcile that needs no I/O (an unchanged host) resolves on microtasks only: without a turn of the event
      // loop between reconciles, a resync of thousands of hosts would hold back watch events and /metrics until done.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async process(key: string): Promise<void> {
    const started = performance.now();
    const elapsed = (): number => (performance.now() - started) / 1000;
    try {
      const result = (await this.options.reconciler.reconcile(parseRequestKey(key))) ?? done();
      if (result.kind === 'requeueAfter' || result.kind === 'commitThenContinue') {
        this.queue.forget(key);
        // Node fires a timer longer than 2^31-1 ms at once (after a warning): a far-away requeue would spin.
        this.queue.addAfter(key, result.kind === 'commitThenContinue' ? 1 : Math.min(result.ms, MAX_TIMER_MS));
        this.metrics.reconciled(this.name, 'requeue_after', elapsed());
      } else if (result.kind === 'requeueWithBackoff') {
        this.queue.addRateLimited(key);
        this.metrics.reconciled(this.name, 'requeue', elapsed());
      } else {
        this.queue.forget(key);
        this.metrics.reconciled(this.name, 'success', elapsed());
      }
    } catch (err) {
      const delay = this.queue.addRateLimited(key);
      this.metrics.reconciled(this.name, 'error', elapsed());
      const message = err instanceof Error ? err.message : String(err);
      // A 409 means this reconcile read an older version than the server has (a cache a moment behind, another
      // writer): expected, and the retry reads the newer one, as controller-runtime's requeue on conflict does.
      if (isConflict(err)) this.log.debug({ key, err: message, retryInMs: delay }, 'conflict, retrying from the newer version');
      else this.log.error({ key, err: message, retryInMs: delay }, 'reconcile failed');
    }
  }
}
