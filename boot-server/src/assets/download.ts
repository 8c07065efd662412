// One download of an upstream asset into the cache directory: fetched to a `.part-*` file, hashed while it is written,
// and renamed to its sha256 only once the whole file matches. While it runs, readers may follow the part file as it
// grows (stream.ts): `written` counts the bytes already on disk and `changed()` wakes them at every step. The rename
// and the removal of a bad part file happen synchronously together with the state change, so a reader that sees
// `running` can always open the part file, and one that sees `verified` the final file.
import { createHash, randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Artifact } from '../bootconfigs/index.js';

export class AssetError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** An upstream URL fit for a log line or an error answer: credentials and query strings (signed URLs) hidden. */
export function displayURL(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.username || url.password) {
      url.username = 'REDACTED';
      url.password = '';
    }
    if (url.search) url.search = '?REDACTED';
    return url.href;
  } catch {
    return '(an invalid URL)';
  }
}

export interface DownloadOptions {
  /** Where the verified file ends up (the cache's path for its sha256). */
  path: string;
  maxBytes: number;
  idleTimeoutMs: number;
  fetchImpl: typeof fetch;
  log: Logger;
}

export type DownloadState = 'running' | 'verified' | 'failed';

export class Download {
  readonly partPath: string;
  /** The verified file's path; rejects with an AssetError. */
  readonly result: Promise<string>;
  private status: DownloadState = 'running';
  private bytes = 0;
  private announced: number | undefined;
  private failure: AssetError | undefined;
  private readonly controller = new AbortController();
  private waiters: (() => void)[] = [];

  constructor(
    readonly artifact: Artifact,
    private readonly options: DownloadOptions,
  ) {
    this.partPath = `${options.path}.part-${randomBytes(4).toString('hex')}`;
    this.result = this.run();
    this.result.catch(() => undefined); // its callers handle the failure; nobody may be waiting
  }

  get state(): DownloadState {
    return this.status;
  }

  /** Bytes already written to the part file (all of them once verified). */
  get written(): number {
    return this.bytes;
  }

  /** The upstream's Content-Length, when it sent one. */
  get length(): number | undefined {
    return this.announced;
  }

  get error(): AssetError | undefined {
    return this.failure;
  }

  /** Resolves at the next change: more bytes on disk, verified, or failed. */
  changed(): Promise<void> {
    if (this.status !== 'running') return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  abort(reason: string): void {
    this.controller.abort(new Error(reason));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private async run(): Promise<string> {
    const { artifact, options } = this;
    const url = displayURL(artifact.url);
    const expected = artifact.sha256.toLowerCase();
    let idle: NodeJS.Timeout | undefined;
    const touch = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => this.controller.abort(new Error('download stalled')), options.idleTimeoutMs);
    };
    let file: FileHandle | undefined;
    options.log.info({ url, sha256: expected }, 'fetching asset');
    try {
      touch();
      const res = await options.fetchImpl(artifact.url, { signal: this.controller.signal });
      if (!res.ok || !res.body) {
        await res.body?.cancel().catch(() => undefined);
        throw new AssetError(502, `upstream ${url} answered HTTP ${res.status}`);
      }
      const announced = Number(res.headers.get('content-length') ?? Number.NaN);
      if (Number.isSafeInteger(announced) && announced >= 0) {
        if (announced > options.maxBytes) throw new AssetError(502, `upstream ${url} is larger than ${options.maxBytes} bytes`);
        this.announced = announced;
      }
      file = await open(this.partPath, 'wx');
      const hash = createHash('sha256');
      for await (const chunk of Readable.fromWeb(res.body) as AsyncIterable<Uint8Array>) {
        if (this.bytes + chunk.length > options.maxBytes) throw new AssetError(502, `upstream ${url} is larger than ${options.maxBytes} bytes`);
        hash.update(chunk);
        await writeAll(file, chunk);
        this.bytes += chunk.length;
        touch();
        this.notify();
      }
      await file.close();
      file = undefined;
      if (this.announced !== undefined && this.bytes !== this.announced) {
        throw new AssetError(502, `upstream ${url} sent ${this.bytes} bytes, not the ${this.announced} it announced`);
      }
      const got = hash.digest('hex');
      if (got !== expected) throw new AssetError(502, `checksum mismatch for ${url}: expected sha256 ${expected}, got ${got}`);
      renameSync(this.partPath, options.path);
      this.status = 'verified';
      options.log.info({ url, bytes: this.bytes }, 'asset cached');
      return options.path;
    } catch (err) {
      await file?.close().catch(() => undefined);
      this.failure = err instanceof AssetError ? err : new AssetError(502, `could not fetch ${url}: ${reason(err)}`);
      this.status = 'failed';
      rmSync(this.partPath, { force: true });
      throw this.failure;
    } finally {
      clearTimeout(idle);
      this.notify();
    }
  }
}

async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let done = 0; done < chunk.length; ) {
    const { bytesWritten } = await file.write(chunk, done, chunk.length - done);
    done += bytesWritten;
  }
}

/** fetch() says only "fetch failed"; the cause (a refused connection, an unknown host) is what helps. */
function reason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause && cause !== err.message ? `${err.message} (${cause})` : err.message;
}
