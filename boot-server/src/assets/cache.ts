// The asset cache: kernels, initrds and ISOs are fetched from their upstream URL once, verified against their sha256
// while they are written to disk, and then served from disk (with Range support) to every machine. There is one
// download per sha256 at a time, shared by every request and by the prefetcher (prefetch.ts), which starts it as
// soon as a boot config refers to the asset.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Artifact } from '../bootconfigs/index.js';
import { AssetError, Download } from './download.js';

export { AssetError, Download, displayURL } from './download.js';

const SHA256 = /^[0-9a-f]{64}$/;

export interface AssetCacheOptions {
  dir: string;
  log: Logger;
  /** Largest asset accepted (an installer ISO is a few GiB). */
  maxBytes?: number;
  /** A download that makes no progress for this long is abandoned. */
  idleTimeoutMs?: number;
  fetchImpl?: typeof fetch;
  /** How long a client waits for a running download to end before it is streamed what is on disk (stream.ts). */
  streamGraceMs?: number;
}

/** Either the verified file, or the download that will produce it. */
export type AssetLookup = { path: string; download?: undefined } | { path?: undefined; download: Download };

export class AssetCache {
  private readonly inflight = new Map<string, Download>();
  downloads = 0;
  hits = 0;

  constructor(private readonly options: AssetCacheOptions) {
    mkdirSync(options.dir, { recursive: true });
  }

  get streamGraceMs(): number | undefined {
    return this.options.streamGraceMs;
  }

  pathFor(sha256: string): string {
    return join(this.options.dir, sha256.toLowerCase());
  }

  /** The verified file's path if the asset is cached. */
  cachedPath(sha256: string): string | undefined {
    const path = this.pathFor(sha256);
    return existsSync(path) ? path : undefined;
  }

  /** The cached file, or the running download of it (started now if there is none). */
  lookup(artifact: Artifact): AssetLookup {
    const sha = artifact.sha256.toLowerCase();
    if (!SHA256.test(sha)) throw new AssetError(400, 'malformed sha256');
    const path = this.cachedPath(sha);
    if (path) {
      this.hits++;
      return { path };
    }
    let download = this.inflight.get(sha);
    if (!download) {
      this.downloads++;
      download = new Download(artifact, {
        path: this.pathFor(sha),
        maxBytes: this.options.maxBytes ?? 16 * 1024 ** 3,
        idleTimeoutMs: this.options.idleTimeoutMs ?? 60_000,
        fetchImpl: this.options.fetchImpl ?? fetch,
        log: this.options.log,
      });
      const started = download;
      this.inflight.set(sha, started);
      void started.result.catch(() => undefined).finally(() => this.inflight.delete(sha));
    }
    return { download };
  }

  /** Returns the local path of the verified asset, downloading it first if needed. */
  async ensure(artifact: Artifact): Promise<string> {
    const found = this.lookup(artifact);
    return found.path ?? found.download.result;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /** Bytes of verified assets on disk (part files of running downloads excluded). */
  cachedBytes(): number {
    let total = 0;
    for (const name of readdirSync(this.options.dir)) {
      if (!SHA256.test(name)) continue;
      try {
        total += statSync(join(this.options.dir, name)).size;
      } catch {
        // removed meanwhile
      }
    }
    return total;
  }

  /** Abandons every running download (their part files are removed); for shutdown. */
  async close(): Promise<void> {
    const running = [...this.inflight.values()];
    for (const d of running) d.abort('the boot-server is shutting down');
    await Promise.all(running.map((d) => d.result.catch(() => undefined)));
  }
}
