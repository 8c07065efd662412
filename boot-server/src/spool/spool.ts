// A durable local spool: an accepted record is appended and fsync'ed before the caller answers 2xx, so nothing the
// boot-server acknowledged is lost to a crash or an unreachable database. Appends are group-committed (one write and
// one fsync for everything that arrived meanwhile). Readers (the shipper's sinks) follow it with their own cursors,
// up to the last committed byte, also in the segment still being written; a segment is deleted once every reader
// has passed it.
import { constants, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { READ_CHUNK, SEGMENT_FLAGS, fsyncDir, parseLines, pushParsed, readSegmentBytes, segName, segmentSeqs } from './segment-files.js';

export interface SpoolOptions {
  dir: string;
  /** Roll to a new segment after this many bytes. */
  maxSegmentBytes?: number;
}

/** A reader's position: the next byte to read, in segment `seq`. */
export interface SpoolCursor {
  seq: number;
  offset: number;
}

export interface SpoolRead<T> {
  records: T[];
  /** Where the next read starts. */
  next: SpoolCursor;
}

/** What a segment holds for readers: its committed (fsynced) bytes, and whether more can come. */
interface SegmentState {
  seq: number;
  size: number;
  closed: boolean;
}

/** The appends of one group commit: their lines, and the one promise all of their callers wait for. */
interface CommitGroup {
  lines: string[];
  done: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

function commitGroup(): CommitGroup {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { lines: [], done, resolve, reject };
}

export class Spool<T> {
  private readonly dir: string;
  private readonly maxSegmentBytes: number;
  private active: { seq: number; fh: FileHandle; size: number } | undefined;
  /** Every segment on disk, oldest first (Map keeps insertion order; sequence numbers only grow). */
  private readonly segments = new Map<number, SegmentState>();
  private readonly commitListeners = new Set<() => void>();
  private nextSeq: number;
  /** Segments below this sequence number are closed. A segment created while roll() awaits its close is not. */
  private closedBelow: number;
  /** The appends waiting for the next commit (none: undefined). */
  private pending: CommitGroup | undefined;
  private writing: Promise<void> | undefined;
  private closed = false;

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxSegmentBytes = options.maxSegmentBytes ?? 4 * 1024 * 1024;
    mkdirSync(this.dir, { recursive: true });
    const seqs = segmentSeqs(this.dir);
    for (const seq of seqs) this.segments.set(seq, { seq, size: statSync(join(this.dir, segName(seq))).size, closed: true });
    // Never append to a segment from an earlier run: its tail may be torn. Start a fresh one.
    this.nextSeq = (seqs.at(-1) ?? 0) + 1;
    this.closedBelow = this.nextSeq;
  }

  /** Appends records durably; resolves once they are on disk (fsync). */
  append(records: T[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('spool is closed'));
    if (!records.length) return Promise.resolve();
    const group = (this.pending ??= commitGroup());
    for (const r of records) group.lines.push(`${JSON.stringify(r)}\n`);
    this.writing ??= this.flushLoop();
    return group.done;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending) {
        const group = this.pending;
        this.pending = undefined;
        try {
          const seg = await this.activeSegment();
          const buf = Buffer.from(group.lines.join(''), 'utf8');
          // A short write (a full disk) would leave the tail unwritten: write on until all of it is, or it throws.
          for (let done = 0; done < buf.length; ) {
            const { bytesWritten } = await seg.fh.write(buf, done, buf.length - done, seg.size + done);
            if (bytesWritten <= 0) throw new Error('spool segment write made no progress');
            done += bytesWritten;
          }
          if (!constants.O_DSYNC) await seg.fh.datasync();
          seg.size += buf.length;
          this.segments.get(seg.seq)!.size = seg.size;
          group.resolve();
          for (const listener of this.commitListeners) listener();
        } catch (err) {
          group.reject(err instanceof Error ? err : new Error(String(err)));
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
      const fh = await open(join(this.dir, segName(seq)), SEGMENT_FLAGS);
      fsyncDir(this.dir);
      this.active = { seq, fh, size: 0 };
      this.segments.set(seq, { seq, size: 0, closed: false });
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
    // Its size is final: the flush loop is not writing (roll() waited for it, or it is the caller).
    if (a) this.segments.get(a.seq)!.closed = true;
    if (a) await a.fh.close();
  }

  /** Calls `listener` after every group commit (new records are readable). Returns the unsubscribe function. */
  onCommit(listener: () => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** Where a reader starts that has read nothing: the oldest segment on disk. */
  start(): SpoolCursor {
    const first = this.segments.keys().next();
    return { seq: first.done ? this.nextSeq : first.value, offset: 0 };
  }

  /**
   * Committed records from `from` on, oldest first, at most `maxRecords` (and about `maxBytes`), also from the
   * segment being written. A torn last line of a segment from a crash is skipped: it was never acknowledged.
   */
  read(from: SpoolCursor, maxRecords: number, maxBytes = 8 * READ_CHUNK): SpoolRead<T> {
    const records: T[] = [];
    let cur = { ...from };
    let bytes = 0;
    for (const seg of [...this.segments.values()]) {
      if (seg.seq < cur.seq) continue;
      if (seg.seq > cur.seq) cur = { seq: seg.seq, offset: 0 };
      while (cur.offset < seg.size && records.length < maxRecords && bytes < maxBytes) {
        const remaining = seg.size - cur.offset;
        let chunk = readSegmentBytes(this.dir, seg.seq, cur.offset, Math.min(remaining, READ_CHUNK));
        if (!chunk) {
          // Deleted from outside the spool: its records are gone; go on with the next segment.
          if (seg.closed) this.segments.delete(seg.seq);
          cur.offset = seg.size;
          break;
        }
        // One record longer than a chunk: read on to its end (records and segments are bounded).
        if (chunk.lastIndexOf(10) < 0 && chunk.length < remaining) chunk = readSegmentBytes(this.dir, seg.seq, cur.offset, remaining) ?? chunk;
        const end = chunk.lastIndexOf(10);
        if (end < 0) {
          // The rest of a closed segment without a newline: a write torn by a crash, never acknowledged. (The
          // committed bytes of the active segment always end with a newline.)
          if (seg.closed) cur.offset = seg.size;
          break;
        }
        let start = 0;
        while (start <= end && records.length < maxRecords) {
          const nl = chunk.indexOf(10, start);
          pushParsed(records, chunk.toString('utf8', start, nl));
          start = nl + 1;
        }
        cur.offset += start;
        bytes += start;
      }
      if (!seg.closed || cur.offset < seg.size || records.length >= maxRecords || bytes >= maxBytes) break;
    }
    return { records, next: cur };
  }

  /** Whether `cursor` has read everything committed so far. */
  isAtEnd(cursor: SpoolCursor): boolean {
    return this.bytesAfter(cursor) === 0;
  }

  /** Committed bytes after `cursor` (what that reader has still to read). */
  bytesAfter(cursor: SpoolCursor): number {
    let n = 0;
    for (const seg of this.segments.values()) {
      if (seg.seq > cursor.seq) n += seg.size;
      else if (seg.seq === cursor.seq) n += Math.max(0, seg.size - cursor.offset);
    }
    return n;
  }

  /** Deletes every closed segment that all of `cursors` have read to its end. */
  removeRead(cursors: SpoolCursor[]): void {
    for (const seg of [...this.segments.values()]) {
      if (!seg.closed) break;
      if (!cursors.every((c) => c.seq > seg.seq || (c.seq === seg.seq && c.offset >= seg.size))) break;
      this.remove(seg.seq);
    }
  }

  /** Closed segments, oldest first, with their records (a torn last line from a crash is skipped: it was never acknowledged). */
  closedSegments(): { seq: number; records: T[] }[] {
    const activeSeq = this.active?.seq;
    return segmentSeqs(this.dir)
      .filter((s) => s < this.closedBelow && s !== activeSeq)
      .map((seq) => ({ seq, records: parseLines<T>(readFileSync(join(this.dir, segName(seq)), 'utf8')) }));
  }

  /** Deletes a segment whose records have all been shipped. */
  remove(seq: number): void {
    rmSync(join(this.dir, segName(seq)), { force: true });
    fsyncDir(this.dir);
    this.segments.delete(seq);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.roll();
  }
}
