// Ships spooled records to their sinks (the host's status, the install history), oldest segment first. A segment
// is deleted only when every sink has taken all of it; a sink that is down makes the shipper wait and retry with
// backoff, so records arrive late but arrive. Sinks must be idempotent: after a crash a segment is shipped again.
import type { Logger } from 'pino';
import type { Spool } from './spool.js';

export interface Sink<T> {
  readonly name: string;
  /** Takes a batch; throws to be retried later. Records it can never accept must be dropped (and logged) inside. */
  ship(records: T[]): Promise<void>;
}

export interface ShipperOptions {
  intervalMs?: number;
  batchSize?: number;
  backoffMaxMs?: number;
}

export class Shipper<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;
  private nextTryAt = 0;
  shipped = 0;

  constructor(
    private readonly spool: Spool<T>,
    private readonly sinks: Sink<T>[],
    private readonly log: Logger,
    private readonly options: ShipperOptions = {},
  ) {}

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(tick, this.options.intervalMs ?? 200);
      });
    };
    tick();
  }

  /** Ships everything spooled so far (used on shutdown and by tests). */
  async drain(): Promise<boolean> {
    while (this.running) await this.running;
    this.nextTryAt = 0;
    await this.runOnce();
    return this.spool.closedSegments().length === 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.running) await this.running;
  }

  private async runOnce(): Promise<void> {
    if (Date.now() < this.nextTryAt) return;
    try {
      await this.spool.roll();
      for (const seg of this.spool.closedSegments()) {
        const size = this.options.batchSize ?? 500;
        for (let i = 0; i < seg.records.length; i += size) {
          const batch = seg.records.slice(i, i + size);
          // The sinks are independent: a batch takes as long as the slowest, not their sum. Every sink finishes
          // (settles) before a failure is retried, so no sink ever takes the same batch twice at once.
          const outcomes = await Promise.allSettled(this.sinks.map((sink) => sink.ship(batch)));
          const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
          if (failed) throw failed.reason;
        }
        this.spool.remove(seg.seq);
        this.shipped += seg.records.length;
      }
      this.failures = 0;
    } catch (err) {
      this.failures++;
      const delay = Math.min(200 * 2 ** (this.failures - 1), this.options.backoffMaxMs ?? 30_000);
      this.nextTryAt = Date.now() + delay;
      this.log.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'shipping spooled records failed; will retry');
    }
  }
}
