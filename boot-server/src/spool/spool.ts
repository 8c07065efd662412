// A durable local spool: an accepted record is appended and fsync'ed before the caller answers 2xx, so nothing the
// boot-server acknowledged is lost to a crash or an unreachable database. Appends are group-committed (one write and
// one fsync for everything that arrived meanwhile). Segments are deleted only after every record in them was shipped.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface SpoolOptions {
  dir: string;
  /** Roll to a new segment after this many bytes. */
  maxSegmentBytes?: number;
}

const SEGMENT = /^seg-(\d{16})\.jsonl$/;
const segName = (seq: number): string => `seg-${String(seq).padStart(16, '0')}.jsonl`;

interface PendingAppend {
  data: Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class Spool<T> {
  private readonly dir: string;
  private readonly maxSegmentBytes: number;
  private active: { seq: number; fh: FileHandle; size: number } | undefined;
  private nextSeq: number;
  /** Segments below this sequence number are closed. A segment created while roll() awaits its close is not. */
  private closedBelow: number;
  private pending: PendingAppend[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxSegmentBytes = options.maxSegmentBytes ?? 4 * 1024 * 1024;
    mkdirSync(this.dir, { recursive: true });
    const seqs = this.segmentSeqs();
    // Never append to a segment from an earlier run: its tail may be torn. Start a fresh one.
    this.nextSeq = (seqs.at(-1) ?? 0) + 1;
    this.closedBelow = this.nextSeq;
  }

  /** Appends records durably; resolves once they are on disk (fsync). */
  append(records: T[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('spool is closed'));
    if (!records.length) return Promise.resolve();
    const data = Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8');
    return new Promise((resolve, reject) => {
      this.pending.push({ data, resolve, reject });
      this.writing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0);
        try {
          const seg = await this.activeSegment();
          const buf = Buffer.concat(batch.map((p) => p.data));
          await seg.fh.write(buf, 0, buf.length, seg.size);
          await seg.fh.datasync();
          seg.size += buf.length;
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err instanceof Error ? err : new Error(String(err)));
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  /** Called from the flush loop only: closing a full segment here must not wait for that loop, as roll() does. */
  private async activeSegment(): Promise<{ seq: number; fh: FileHandle; size: number }> {
    if (this.active && this.active.size >= this.maxSegmentBytes) await this.closeActive();
    if (!this.active) {
      const seq = this.nextSeq++;
      const fh = await open(join(this.dir, segName(seq)), 'a');
      fsyncDir(this.dir);
      this.active = { seq, fh, size: 0 };
    }
    return this.active;
  }

  /** Closes the active segment so the shipper can take it. */
  async roll(): Promise<void> {
    while (this.writing) await this.writing;
    await this.closeActive();
  }

  private async closeActive(): Promise<void> {
    const a = this.active;
    this.active = undefined;
    // Decided now, before the await: an append arriving meanwhile opens the next segment, which must stay open
    // (listing it as closed would let the shipper delete a file that is still being written).
    this.closedBelow = this.nextSeq;
    if (a) await a.fh.close();
  }

  private segmentSeqs(): number[] {
    return readdirSync(this.dir)
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((s): s is string => !!s)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Closed segments, oldest first, with their records (a torn last line from a crash is skipped: it was never acknowledged). */
  closedSegments(): { seq: number; records: T[] }[] {
    const activeSeq = this.active?.seq;
    return this.segmentSeqs()
      .filter((s) => s < this.closedBelow && s !== activeSeq)
      .map((seq) => ({ seq, records: parseLines<T>(readFileSync(join(this.dir, segName(seq)), 'utf8')) }));
  }

  /** Deletes a segment whose records have all been shipped. */
  remove(seq: number): void {
    rmSync(join(this.dir, segName(seq)), { force: true });
    fsyncDir(this.dir);
  }

  /** Records waiting to be shipped (closed and active segments), for metrics and readiness. */
  backlogBytes(): number {
    return this.segmentSeqs().reduce((n, s) => n + statSync(join(this.dir, segName(s))).size, 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.roll();
  }
}

function parseLines<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a torn write from a crash: that record was never acknowledged
    }
  }
  return out;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
