// The spool's files on disk: one JSON record per line in numbered segments (seg-<16 digits>.jsonl), written with
// O_DSYNC, read back by offset; a torn last line from a crash is skipped, as it was never acknowledged.
import { closeSync, constants, fsyncSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

const SEGMENT = /^seg-(\d{16})\.jsonl$/;
/**
 * Segments are written with O_DSYNC: a write returns once its data is on disk, as write + fdatasync would, in one
 * system call instead of two (half the wait for a lone installer's event). Not O_APPEND: a write goes to the end of
 * what is committed, so a write that failed halfway is overwritten by the next one and readers never meet it.
 */
export const SEGMENT_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_DSYNC ?? 0);
export const READ_CHUNK = 1024 * 1024;
export const segName = (seq: number): string => `seg-${String(seq).padStart(16, '0')}.jsonl`;

/** The sequence numbers of the segments in `dir`, oldest first. */
export function segmentSeqs(dir: string): number[] {
  return readdirSync(dir)
    .map((f) => SEGMENT.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The bytes at offset (fewer at the end of the file), or undefined if the segment's file is gone. */
export function readSegmentBytes(dir: string, seq: number, offset: number, length: number): Buffer | undefined {
  const buf = Buffer.allocUnsafe(length);
  let fd: number;
  try {
    fd = openSync(join(dir, segName(seq)), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? buf : buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

export function pushParsed<T>(out: T[], line: string): void {
  if (!line) return;
  try {
    out.push(JSON.parse(line) as T);
  } catch {
    // a torn write from a crash: that record was never acknowledged
  }
}

export function parseLines<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) pushParsed(out, line);
  return out;
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
