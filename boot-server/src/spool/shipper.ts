// Ships spooled records to their sinks (the host's status, the install history). Each sink follows the spool with
// its own cursor, oldest record first, and goes at its own pace: a slow or unreachable sink never holds up another.
// A sink is woken by every group commit of the spool (no polling delay), and takes what has accumulated meanwhile
// as one batch, so batches grow with the load. A segment is deleted once every sink has passed it; a sink that is down
// makes its cursor wait and retry with backoff, so records arrive late but arrive. Cursors live in memory: after a
// crash every sink starts again at the oldest segment left, so sinks must be idempotent.
// A record a sink refuses permanently (bad data, a bug it triggers) is found by splitting the refused batch, then
// quarantined (quarantine.ts) so the records after it go on; an outage (the database or the API server away) is only
// waited out.
import type { Logger } from 'pino';
import type { Spool, SpoolCursor } from './spool.js';
import { isPermanentSinkError } from './sink-errors.js';

/** How a sink wants its batches. */
export interface SinkBatching {
  /** Records per batch at most (default: the shipper's batchSize). */
  maxRecords?: number;
  /** Time between the starts of two batches at least: a sink that coalesces (one write per host) ships fewer, larger batches under load. */
  minIntervalMs?: number;
  /**
   * Share of the time the sink may spend shipping while it has a backlog (0.5: after a batch that took 3 s it rests
   * 3 s). For a sink whose batches cost per host rather than per record, resting makes the next batch larger instead
   * of taking CPU from accepting events and from the other sinks.
   */
  maxBusyShare?: number;
}

export interface Sink<T> {
  readonly name: string;
  readonly batching?: SinkBatching;
  /** Takes a batch; throws to be retried later. Must be idempotent: after a crash or a failure it gets records again. */
  ship(records: T[]): Promise<void>;
}

export interface QuarantinePort<T> {
  /** Keeps the record durably; undefined when the same record of the same sink is kept already. */
  add(sink: string, reason: string, record: T): unknown;
}

export interface ShipperOptions<T = unknown> {
  /** How often every sink looks for records even without a commit to wake it (a safety net). */
  intervalMs?: number;
  /** Records per batch for sinks that do not say (default 500). */
  batchSize?: number;
  backoffMaxMs?: number;
  /** Where records go that a sink refuses permanently; without one they are retried forever. */
  quarantine?: QuarantinePort<T>;
  /** Called for each quarantined record (a metric). */
  onQuarantine?: (sink: string) => void;
}

/** When a sink that shipped a batch from `startedAt` to `endedAt` may start its next one. */
export function restUntil(batching: SinkBatching | undefined, startedAt: number, endedAt: number): number {
  const share = batching?.maxBusyShare;
  const rest = share && share > 0 && share < 1 ? ((endedAt - startedAt) * (1 - share)) / share : 0;
  return Math.max(startedAt + (batching?.minIntervalMs ?? 0), endedAt + rest);
}

/** One sink's progress through the spool. */
interface Lane<T> {
  sink: Sink<T>;
  cursor: SpoolCursor;
  running?: Promise<void>;
  /** Woken while running: look again when done. */
  again: boolean;
  timer?: NodeJS.Timeout;
  /** Not before (backoff after a failure, or the sink's minimum interval). */
  readyAt: number;
  failures: number;
  /** The last batch failed (cleared by the next success). */
  failing: boolean;
}

export class Shipper<T> {
  private readonly lanes: Lane<T>[];
  private ticker: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly spool: Spool<T>,
    sinks: Sink<T>[],
    private readonly log: Logger,
    private readonly options: ShipperOptions<T> = {},
  ) {
    const start = spool.start();
    this.lanes = sinks.map((sink) => ({ sink, cursor: { ...start }, again: false, readyAt: 0, failures: 0, failing: false }));
  }

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.spool.onCommit(() => this.wakeAll());
    this.ticker = setInterval(() => this.wakeAll(), this.options.intervalMs ?? 1000);
    this.wakeAll();
  }

  /** Ships everything committed so far to every sink, ignoring backoff and intervals (shutdown, tests). True if every sink took all of it. */
  async drain(): Promise<boolean> {
    await Promise.all(
      this.lanes.map(async (lane) => {
        while (lane.running) await lane.running;
        lane.running = this.pump(lane, true);
        await lane.running;
        lane.running = undefined;
        // Woken meanwhile (or more committed): the running shipper goes on as usual.
        if (this.ticker) this.wake(lane);
      }),
    );
    return this.lanes.every((lane) => !lane.failing && this.spool.isAtEnd(lane.cursor));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    for (const lane of this.lanes) {
      if (lane.timer) clearTimeout(lane.timer);
      lane.timer = undefined;
    }
    for (const lane of this.lanes) while (lane.running) await lane.running;
  }

  /** Committed bytes each sink has still to take. */
  backlog(): Record<string, number> {
    return Object.fromEntries(this.lanes.map((lane) => [lane.sink.name, this.spool.bytesAfter(lane.cursor)]));
  }

  /** Committed bytes the slowest sink has still to take (0: everything accepted is shipped everywhere). */
  backlogBytes(): number {
    return Math.max(0, ...this.lanes.map((lane) => this.spool.bytesAfter(lane.cursor)));
  }

  private wakeAll(): void {
    for (const lane of this.lanes) this.wake(lane);
  }

  private wake(lane: Lane<T>): void {
    if (this.stopped) return;
    if (lane.running) {
      lane.again = true;
      return;
    }
    if (lane.timer) return;
    const wait = lane.readyAt - Date.now();
    if (wait > 0) {
      lane.timer = setTimeout(() => {
        lane.timer = undefined;
        this.wake(lane);
      }, wait);
      return;
    }
    if (this.spool.isAtEnd(lane.cursor)) return;
    lane.again = false;
    lane.running = this.pump(lane, false).finally(() => {
      lane.running = undefined;
      if (lane.again || !this.spool.isAtEnd(lane.cursor)) this.wake(lane);
    });
  }

  /** Ships batches from the lane's cursor: one batch, or (eager) until caught up. Never throws: a failure schedules a retry. */
  private async pump(lane: Lane<T>, eager: boolean): Promise<void> {
    const { sink } = lane;
    const maxRecords = sink.batching?.maxRecords ?? this.options.batchSize ?? 500;
    do {
      const startedAt = Date.now();
      try {
        const { records, next } = this.spool.read(lane.cursor, maxRecords);
        if (records.length) await this.shipOrIsolate(sink, records);
        lane.cursor = next; // also past a torn tail or unreadable lines, when there was nothing to ship
        lane.failures = 0;
        lane.failing = false;
        if (records.length) lane.readyAt = restUntil(sink.batching, startedAt, Date.now());
        // Segments every sink has read; also one closed since (a roll or a full segment).
        this.spool.removeRead(this.lanes.map((l) => l.cursor));
        if (!records.length) return;
      } catch (err) {
        // The sink (or reading the spool) failed: this sink waits and tries the same records again; the others go on.
        lane.failing = true;
        lane.failures++;
        const delay = Math.min(200 * 2 ** (lane.failures - 1), this.options.backoffMaxMs ?? 30_000);
        lane.readyAt = Date.now() + delay;
        this.log.warn({ sink: sink.name, err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'shipping spooled records failed; will retry');
        return;
      }
    } while (eager && !this.spool.isAtEnd(lane.cursor));
  }

  /**
   * Ships a batch; if the sink refuses it for good, ships each half in turn, down to the single records it refuses,
   * which are quarantined. An outage (any other error) is thrown: the batch is retried later.
   */
  private async shipOrIsolate(sink: Sink<T>, records: T[]): Promise<void> {
    try {
      await sink.ship(records);
    } catch (err) {
      if (!this.options.quarantine || !isPermanentSinkError(err)) throw err;
      if (records.length > 1) {
        const half = Math.ceil(records.length / 2);
        await this.shipOrIsolate(sink, records.slice(0, half));
        await this.shipOrIsolate(sink, records.slice(half));
        return;
      }
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      // undefined: kept already (shipped again after a crash)
      if (this.options.quarantine.add(sink.name, reason, records[0]!) === undefined) return;
      this.options.onQuarantine?.(sink.name);
      this.log.error({ sink: sink.name, reason }, 'a spooled record was refused for good and quarantined; shipping goes on');
    }
  }
}
