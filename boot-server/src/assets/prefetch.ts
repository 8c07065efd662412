// Prefetching: as soon as a boot config that refers to an asset is published (or seen at start), its download starts
// in the background, so the asset is usually cached before the machine asks for it. A few downloads run at a time;
// each is the cache's one download for that sha256, shared with any request that arrives meanwhile. A failed
// download is logged once, with the upstream URL (credentials and query hidden) and the reason, and tried again
// with a doubling delay up to a cap, for as long as a published config still refers to the asset. Nothing here ever
// waits on the caller's path: want() only queues.
import { fromSecret } from '@anvil/core/bootconfig';
import type { InformerSet, KubeObject } from '@anvil/core/kube';
import type { Logger } from 'pino';
import type { Artifact } from '../bootconfigs/index.js';
import { AssetError, displayURL, type AssetCache } from './cache.js';

export type PrefetchResult = 'fetched' | 'failed';

export interface PrefetchOptions {
  log: Logger;
  /** Downloads the prefetcher runs at once (requests from machines are not limited by it). Default 2. */
  concurrency?: number;
  /** Delay before the first retry of a failed download, doubled at each further failure. Default 1 s. */
  retryBaseMs?: number;
  /** Longest delay between retries. Default 5 min. */
  retryMaxMs?: number;
  onResult?: (result: PrefetchResult) => void;
}

export class AssetPrefetcher {
  /** sha256 → asset waiting for a slot (in the order they were asked for). */
  private readonly queue = new Map<string, Artifact>();
  private readonly active = new Set<string>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private stopped = false;

  /** `current(sha256)`: the asset as a published config refers to it now, or undefined when none does any more. */
  constructor(
    private readonly cache: AssetCache,
    private readonly current: (sha256: string) => Artifact | undefined,
    private readonly options: PrefetchOptions,
  ) {}

  /** Prefetches every install asset of the boot configs `source` publishes, as they are added or changed. */
  watch(source: Pick<InformerSet<KubeObject>, 'addHandlers'>): void {
    source.addHandlers({
      onAdd: (secret) => this.want(installAssets(secret)),
      onUpdate: (_old, secret) => this.want(installAssets(secret)),
    });
  }

  /** Queues the assets not cached, queued, downloading or waiting for a retry yet; returns at once. */
  want(artifacts: Iterable<Artifact>): void {
    if (this.stopped) return;
    let added = false;
    for (const artifact of artifacts) {
      const sha = artifact.sha256.toLowerCase();
      if (this.queue.has(sha) || this.active.has(sha) || this.retries.has(sha) || this.cache.cachedPath(sha)) continue;
      this.queue.set(sha, artifact);
      added = true;
    }
    if (added) setImmediate(() => this.pump());
  }

  /** Assets waiting for a download slot. */
  get queued(): number {
    return this.queue.size;
  }

  /** Assets queued, downloading or waiting for a retry. */
  get pending(): number {
    return this.queue.size + this.active.size + this.retries.size;
  }

  /** Stops starting downloads and retries (running downloads belong to the cache: AssetCache.close()). */
  stop(): void {
    this.stopped = true;
    this.queue.clear();
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
  }

  private pump(): void {
    const limit = Math.max(1, this.options.concurrency ?? 2);
    while (!this.stopped && this.active.size < limit && this.queue.size > 0) {
      const next = this.queue.keys().next();
      if (next.done) break;
      const sha = next.value;
      this.queue.delete(sha);
      const artifact = this.current(sha);
      if (!artifact || this.cache.cachedPath(sha)) {
        this.failures.delete(sha);
        continue;
      }
      this.active.add(sha);
      this.cache.ensure(artifact).then(
        () => this.succeeded(sha),
        (err: unknown) => this.failed(artifact, err),
      ).finally(() => {
        this.active.delete(sha);
        this.pump();
      });
    }
  }

  private succeeded(sha: string): void {
    this.failures.delete(sha);
    this.options.onResult?.('fetched');
  }

  private failed(artifact: Artifact, err: unknown): void {
    const sha = artifact.sha256.toLowerCase();
    this.options.onResult?.('failed');
    const message = err instanceof Error ? err.message : String(err);
    const log = { url: displayURL(artifact.url), sha256: sha, err: message };
    if (err instanceof AssetError && err.status < 500) {
      this.options.log.warn(log, 'asset prefetch failed; not retried');
      return;
    }
    const attempt = (this.failures.get(sha) ?? 0) + 1;
    this.failures.set(sha, attempt);
    const delayMs = Math.min((this.options.retryBaseMs ?? 1000) * 2 ** (attempt - 1), this.options.retryMaxMs ?? 300_000);
    this.options.log.warn({ ...log, attempt, retryInMs: delayMs }, 'asset prefetch failed');
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.retries.delete(sha);
      if (this.stopped) return;
      this.queue.set(sha, artifact);
      this.pump();
    }, delayMs);
    timer.unref();
    this.retries.set(sha, timer);
  }
}

/** The install assets (kernel, initrd, ISO) a boot config Secret refers to. */
export function installAssets(secret: KubeObject): Artifact[] {
  const install = fromSecret(secret)?.install;
  if (!install) return [];
  return [install.kernel, install.initrd, install.iso].filter((a): a is Artifact => a !== undefined);
}
