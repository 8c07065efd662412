// A work queue with client-go's guarantees: an item is queued at most once, never handed to two workers at once
// (an add while it is being processed is remembered and delivered after done()), delayed adds, and rate-limited
// re-adds with per-item exponential backoff.
import { ItemExponentialBackoff } from './rate-limiter.js';

export interface WorkQueueMetrics {
  depth(n: number): void;
  added(): void;
  retried(): void;
  /** Seconds an item waited between being queued and being handed to a worker. */
  queued(seconds: number): void;
  /** Seconds of work; reported on done(). */
  worked(seconds: number): void;
}

const noMetrics: WorkQueueMetrics = { depth() {}, added() {}, retried() {}, queued() {}, worked() {} };

export class WorkQueue<K = string> {
  private readonly queue: K[] = [];
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly addedAt = new Map<K, number>();
  private readonly startedAt = new Map<K, number>();
  private readonly waiting = new Map<K, { at: number; timer: NodeJS.Timeout }>();
  private readonly getters: ((item: K | undefined) => void)[] = [];
  private shuttingDown = false;

  constructor(
    private readonly backoff = new ItemExponentialBackoff<K>(),
    private readonly metrics: WorkQueueMetrics = noMetrics,
  ) {}

  get length(): number {
    return this.queue.length;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  add(item: K): void {
    if (this.shuttingDown || this.dirty.has(item)) return;
    this.metrics.added();
    this.dirty.add(item);
    if (!this.addedAt.has(item)) this.addedAt.set(item, performance.now());
    if (this.processing.has(item)) return; // delivered again after done()
    this.push(item);
  }

  /** Adds the item after a delay; an earlier pending delayed add for the same item wins. */
  addAfter(item: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(item);
    const at = Date.now() + delayMs;
    const existing = this.waiting.get(item);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(item);
      this.add(item);
    }, delayMs);
    timer.unref();
    this.waiting.set(item, { at, timer });
  }

  /** Re-adds the item after its backoff delay; returns that delay in milliseconds. */
  addRateLimited(item: K): number {
    const delay = this.backoff.when(item);
    this.metrics.retried();
    this.addAfter(item, delay);
    return delay;
  }

  /** Ends the item's backoff (call after a successful reconcile or a requested requeueAfter). */
  forget(item: K): void {
    this.backoff.forget(item);
  }

  retries(item: K): number {
    return this.backoff.retries(item);
  }

  /** Waits for the next item; resolves undefined once the queue shuts down. */
  get(): Promise<K | undefined> {
    const item = this.take();
    if (item !== undefined || this.shuttingDown) return Promise.resolve(item);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(item: K): void {
    this.processing.delete(item);
    const started = this.startedAt.get(item);
    if (started !== undefined) this.metrics.worked((performance.now() - started) / 1000);
    this.startedAt.delete(item);
    if (this.dirty.has(item)) this.push(item);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    for (const resolve of this.getters.splice(0)) resolve(undefined);
  }

  private push(item: K): void {
    const getter = this.getters.shift();
    if (getter) {
      this.hand(item);
      getter(item);
      return;
    }
    this.queue.push(item);
    this.metrics.depth(this.queue.length);
  }

  private take(): K | undefined {
    const item = this.queue.shift();
    if (item === undefined) return undefined;
    this.metrics.depth(this.queue.length);
    this.hand(item);
    return item;
  }

  private hand(item: K): void {
    this.dirty.delete(item);
    this.processing.add(item);
    const added = this.addedAt.get(item);
    this.addedAt.delete(item);
    if (added !== undefined) this.metrics.queued((performance.now() - added) / 1000);
    this.startedAt.set(item, performance.now());
  }
}
