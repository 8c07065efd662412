// Where the bytes of a transfer come from: a file handle read positionally (bounded read-ahead, never the whole
// file), or an in-memory buffer (generated content). Plus the file resolver that keeps every open inside the root.
import { constants as fsConstants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { ErrorCode, type ErrorCodeValue } from './packet.js';

export interface TftpContent {
  readonly size: number;
  /** Bytes [start, end) of the content; rejects when they cannot all be read (the file shrank). */
  read(start: number, end: number): Promise<Buffer>;
  close(): Promise<void>;
}

export class MemoryContent implements TftpContent {
  readonly size: number;
  constructor(private readonly data: Buffer) {
    this.size = data.length;
  }
  async read(start: number, end: number): Promise<Buffer> {
    return this.data.subarray(start, Math.min(end, this.size));
  }
  async close(): Promise<void> {}
}

/** Smallest positional read: window reads below this are rounded up (fewer syscalls at blksize 512, windowsize 1). */
export const READ_AHEAD_BYTES = 64 * 1024;

export class FileContent implements TftpContent {
  private cache: Buffer | undefined;
  private cacheStart = 0;
  private closed = false;

  constructor(private readonly handle: FileHandle, readonly size: number) {}

  async read(start: number, end: number): Promise<Buffer> {
    end = Math.min(end, this.size);
    if (end <= start) return Buffer.alloc(0);
    const c = this.cache;
    if (c && start >= this.cacheStart && end <= this.cacheStart + c.length) return c.subarray(start - this.cacheStart, end - this.cacheStart);
    const length = Math.min(Math.max(end - start, READ_AHEAD_BYTES), this.size - start);
    // A fresh buffer per read: packets of the previous window may still be queued in the socket.
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.handle.read(buf, got, length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < end - start) throw new Error(`file shrank during the transfer (read ${got} of ${end - start} bytes at ${start})`);
    this.cache = buf.subarray(0, got);
    this.cacheStart = start;
    return this.cache.subarray(0, end - start);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache = undefined;
    await this.handle.close();
  }
}

export type OpenResult = { ok: true; content: TftpContent } | { ok: false; code: ErrorCodeValue; message: string; reason: string };

const notFound = (reason: string): OpenResult => ({ ok: false, code: ErrorCode.FILE_NOT_FOUND, message: 'File not found', reason });
const denied = (reason: string): OpenResult => ({ ok: false, code: ErrorCode.ACCESS_VIOLATION, message: 'Access violation', reason });

/**
 * Opens `relative` (already lexically sanitized, see filename.ts) under `root`. The realpath of the target must stay
 * inside the realpath of the root, so symlinks pointing out of the tree are refused; the final open does not follow
 * symlinks and does not block on FIFOs; only regular files are served.
 */
export async function openInRoot(root: string, relative: string): Promise<OpenResult> {
  let rootReal: string;
  try {
    rootReal = await realpath(root);
  } catch {
    return notFound(`root ${root} does not exist`);
  }
  let real: string;
  try {
    real = await realpath(join(rootReal, relative));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return notFound('no such file');
    return denied(`cannot resolve: ${code ?? String(err)}`);
  }
  const prefix = rootReal.endsWith(sep) ? rootReal : rootReal + sep;
  if (!real.startsWith(prefix)) return denied(`resolves outside the root (${real})`);
  let handle: FileHandle;
  try {
    handle = await open(real, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return notFound('vanished before open');
    return denied(`cannot open: ${code ?? String(err)}`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      return denied('not a regular file');
    }
    return { ok: true, content: new FileContent(handle, st.size) };
  } catch (err) {
    await handle.close().catch(() => undefined);
    return denied(`cannot stat: ${String(err)}`);
  }
}
