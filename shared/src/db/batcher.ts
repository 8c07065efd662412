// Batches single installer events and boot requests into multi-row inserts: a batch is written when it reaches
// maxBatch records or maxDelayMs after its first record, whichever comes first; one write per kind at a time, so
// records are stored in the order they were added. Each add() resolves once its record is stored, or rejects with
// the write's error: durability stays with the caller (the boot-server's spool re-ships what did not land; every
// write is idempotent). Ignoring the returned promise is safe (a rejection is logged, never unhandled).
import type { Logger } from '../logging.js';
import type { BootRequestInput, HistoryStore, InstallerEventInput } from './history-store.js';

export interface HistoryBatcherOptions {
  /** Records per insert (default 500). */
  maxBatch?: number;
  /** How long the first record of a batch may wait (default 1000 ms). */
  maxDelayMs?: number;
  /** Records waiting at most, per kind; beyond it add() rejects at once (default 20 000). */
  maxPending?: number;
  log?: Logger;
}

export class HistoryQueueFullError extends Error {
  override name = 'HistoryQueueFullError';
}

interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

class Batch<T> {
  private queue: Waiting<T>[] = [];
  private timer?: NodeJS.Timeout;
  private writing?: Promise<void>;
  written = 0;
  failed = 0;

  constructor(
    private readonly kind: string,
    private readonly write: (items: T[]) => Promise<unknown>,
    private readonly opts: Required<Omit<HistoryBatcherOptions, 'log'>> & { log?: Logger },
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  add(item: T): Promise<void> {
    if (this.queue.length >= this.opts.maxPending) {
      return Promise.reject(new HistoryQueueFullError(`${this.kind}: ${this.queue.length} records are waiting for the history database`));
    }
    const p = new Promise<void>((resolve, reject) => this.queue.push({ item, resolve, reject }));
    p.catch(() => undefined); // the caller may ignore it; the error is logged in drain()
    if (this.queue.length >= this.opts.maxBatch) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.opts.maxDelayMs);
    return p;
  }

  /** Starts writing unless a write is running (which kicks again when done). */
  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.writing || !this.queue.length) return;
    this.writing = this.drainOnce().finally(() => {
      this.writing = undefined;
      if (this.queue.length >= this.opts.maxBatch) this.kick();
      else if (this.queue.length) this.timer ??= setTimeout(() => this.kick(), this.opts.maxDelayMs);
    });
  }

  private async drainOnce(): Promise<void> {
    const batch = this.queue.splice(0, this.opts.maxBatch);
    try {
      await this.write(batch.map((w) => w.item));
      this.written += batch.length;
      for (const w of batch) w.resolve();
    } catch (err) {
      this.failed += batch.length;
      this.opts.log?.warn({ kind: this.kind, records: batch.length, err: err instanceof Error ? err.message : String(err) }, 'history batch not stored');
      for (const w of batch) w.reject(err);
    }
  }

  /** Writes everything added so far (errors go to the add() promises). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing || this.queue.length) {
      if (this.writing) await this.writing;
      else {
        this.writing = this.drainOnce().finally(() => (this.writing = undefined));
      }
    }
  }
}

export class HistoryBatcher {
  private readonly events: Batch<InstallerEventInput>;
  private readonly boots: Batch<BootRequestInput>;
  private closed = false;

  constructor(store: Pick<HistoryStore, 'recordInstallerEvents' | 'recordBootRequests'>, opts: HistoryBatcherOptions = {}) {
    const o = { maxBatch: opts.maxBatch ?? 500, maxDelayMs: opts.maxDelayMs ?? 1000, maxPending: opts.maxPending ?? 20_000, log: opts.log };
    if (!(o.maxBatch >= 1) || !(o.maxDelayMs >= 0) || !(o.maxPending >= o.maxBatch)) throw new Error('HistoryBatcher: need maxBatch >= 1, maxDelayMs >= 0, maxPending >= maxBatch');
    this.events = new Batch('installer-events', (items) => store.recordInstallerEvents(items), o);
    this.boots = new Batch('boot-requests', (items) => store.recordBootRequests(items), o);
  }

  addEvent(event: InstallerEventInput): Promise<void> {
    if (this.closed) return Promise.reject(new Error('history batcher is closed'));
    return this.events.add(event);
  }

  addBootRequest(request: BootRequestInput): Promise<void> {
    if (this.closed) return Promise.reject(new Error('history batcher is closed'));
    return this.boots.add(request);
  }

  stats(): { pending: number; written: number; failed: number } {
    return { pending: this.events.pending + this.boots.pending, written: this.events.written + this.boots.written, failed: this.events.failed + this.boots.failed };
  }

  async flush(): Promise<void> {
    await Promise.all([this.events.flush(), this.boots.flush()]);
  }

  /** Stops accepting records and writes what is waiting. Does not close the store. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
