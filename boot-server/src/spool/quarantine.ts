// Where a record goes that a sink can never take (it fails the same way on every retry): kept on disk with the sink
// and the reason, listed by the API and counted in a metric, so one bad record never holds up everything after it
// and is never silently lost either.
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface QuarantinedRecord<T = unknown> {
  quarantinedAt: string;
  sink: string;
  reason: string;
  record: T;
}

export class Quarantine<T> {
  private readonly recent: QuarantinedRecord<T>[] = [];
  /** What is already kept: after a crash the spool ships a quarantined record again, and it is refused again. */
  private readonly kept = new Set<string>();
  private total = 0;

  constructor(
    private readonly file: string,
    private readonly keepInMemory = 1000,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    for (const line of readLines(file)) {
      try {
        this.remember(JSON.parse(line) as QuarantinedRecord<T>);
      } catch {
        // a torn last line from a crash: the record is still in the spool and will be quarantined again
      }
    }
  }

  /** Durable before it returns: the caller deletes the record from the spool afterwards. */
  add(sink: string, reason: string, record: T): QuarantinedRecord<T> | undefined {
    if (this.kept.has(identity(sink, record))) return undefined;
    const entry: QuarantinedRecord<T> = { quarantinedAt: new Date().toISOString(), sink, reason: reason.slice(0, 2048), record };
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
    const fd = openSync(this.file, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.remember(entry);
    return entry;
  }

  /** Newest first. */
  list(limit = 100): QuarantinedRecord<T>[] {
    return this.recent.slice(-limit).reverse();
  }

  get count(): number {
    return this.total;
  }

  private remember(entry: QuarantinedRecord<T>): void {
    this.kept.add(identity(entry.sink, entry.record));
    this.total++;
    this.recent.push(entry);
    if (this.recent.length > this.keepInMemory) this.recent.shift();
  }
}

const identity = (sink: string, record: unknown): string => createHash('sha256').update(sink).update('\n').update(JSON.stringify(record)).digest('base64');

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
