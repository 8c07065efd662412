// The asset cache: kernels, initrds and ISOs are fetched from their upstream URL once, verified against their
// sha256 while streaming to disk, and then served from disk (with Range support) to every machine. Concurrent
// requests for an asset not yet cached share one download.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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

export interface AssetCacheOptions {
  dir: string;
  log: Logger;
  /** Largest asset accepted (an installer ISO is a few GiB). */
  maxBytes?: number;
  /** A download that makes no progress for this long is abandoned. */
  idleTimeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export class AssetCache {
  private readonly inflight = new Map<string, Promise<string>>();
  downloads = 0;
  hits = 0;

  constructor(private readonly options: AssetCacheOptions) {
    mkdirSync(options.dir, { recursive: true });
  }

  pathFor(sha256: string): string {
    return join(this.options.dir, sha256.toLowerCase());
  }

  /** Returns the local path of the verified asset, downloading it first if needed. */
  async ensure(artifact: Artifact): Promise<string> {
    const sha = artifact.sha256.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha)) throw new AssetError(400, 'malformed sha256');
    const path = this.pathFor(sha);
    if (existsSync(path)) {
      this.hits++;
      return path;
    }
    let p = this.inflight.get(sha);
    if (!p) {
      p = this.download(artifact, path).finally(() => this.inflight.delete(sha));
      this.inflight.set(sha, p);
    }
    return p;
  }

  private async download(artifact: Artifact, path: string): Promise<string> {
    const tmp = `${path}.part-${randomBytes(4).toString('hex')}`;
    const max = this.options.maxBytes ?? 16 * 1024 ** 3;
    const controller = new AbortController();
    let idle: NodeJS.Timeout | undefined;
    const touch = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new Error('download stalled')), this.options.idleTimeoutMs ?? 60_000);
    };
    this.downloads++;
    this.options.log.info({ url: artifact.url, sha256: artifact.sha256 }, 'fetching asset');
    try {
      touch();
      const res = await (this.options.fetchImpl ?? fetch)(artifact.url, { signal: controller.signal });
      if (!res.ok || !res.body) throw new AssetError(502, `upstream ${artifact.url} answered HTTP ${res.status}`);
      const hash = createHash('sha256');
      let bytes = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          if (bytes > max) return cb(new AssetError(502, `upstream ${artifact.url} is larger than ${max} bytes`));
          hash.update(chunk);
          touch();
          cb(null, chunk);
        },
      });
      await pipeline(Readable.fromWeb(res.body), meter, createWriteStream(tmp));
      const got = hash.digest('hex');
      if (got !== artifact.sha256.toLowerCase()) {
        throw new AssetError(502, `checksum mismatch for ${artifact.url}: expected sha256 ${artifact.sha256.toLowerCase()}, got ${got}`);
      }
      await rename(tmp, path);
      this.options.log.info({ url: artifact.url, bytes }, 'asset cached');
      return path;
    } catch (err) {
      rmSync(tmp, { force: true });
      if (err instanceof AssetError) throw err;
      throw new AssetError(502, `could not fetch ${artifact.url}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      clearTimeout(idle);
    }
  }
}
