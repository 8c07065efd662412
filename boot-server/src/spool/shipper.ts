// Ships spooled records to their sinks (the host's status, the install history), oldest segment first. A segment
// is deleted only when every sink has taken all of it; a sink that is down makes the shipper wait and retry with
// backoff, so records arrive late but arrive. Sinks must be idempotent: after a crash a segment is shipped again.
// A record a sink refuses permanently (bad data, a bug it triggers) is shipped alone to find it, then quarantined
// (quarantine.ts) so the records after it go on; an outage (the database or the API server away) is only waited out.
import type { Logger } from 'pino';
import type { Spool } from './spool.js';
import { isPermanentSinkError } from './sink-errors.js';

export interface Sink<T> {
  readonly name: string;
  /** Takes a batch; throws to be retried later. Must be idempotent: after a crash or a failure it gets records again. */
  ship(records: T[]): Promise<void>;
}

export interface QuarantinePort<T> {
  add(sink: string, reason: string, record: T): unknown;
}

export interface ShipperOptions<T = unknown> {
  intervalMs?: number;
  batchSize?: number;
  backoffMaxMs?: number;
  /** Where records go that a sink refuses permanently; without one they are retried forever. */
  quarantine?: QuarantinePort<T>;
  /** Called for each quarantined record (a metric). */
  onQuarantine?: (sink: string) => void;
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
    private readonly options: ShipperOptions<T> = {},
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

  /** Ships a refused batch one record at a time to the sink that refused it; quarantines what it refuses for good. */
  private async isolate(sink: Sink<T>, batch: T[]): Promise<void> {
    for (const record of batch) {
      try {
        await sink.ship([record]);
      } catch (err) {
        if (!isPermanentSinkError(err)) throw err;
        const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        this.options.quarantine!.add(sink.name, reason, record);
        this.options.onQuarantine?.(sink.name);
        this.log.error({ sink: sink.name, reason }, 'a spooled record was refused for good and quarantined; shipping goes on');
      }
    }
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
          for (const [i, outcome] of outcomes.entries()) {
            if (outcome.status === 'fulfilled') continue;
            if (!this.options.quarantine || !isPermanentSinkError(outcome.reason)) throw outcome.reason;
            await this.isolate(this.sinks[i]!, batch);
          }
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
