// The asset cache's part of the boot-server process: prefetching what published boot configs refer to, and the
// cache's metrics in the process's registry.
import type { InformerSet, KubeObject } from '@anvil/core/kube';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BootConfigIndex } from '../bootconfigs/index.js';
import type { AssetCache } from './cache.js';
import { AssetPrefetcher, type PrefetchOptions, type PrefetchResult } from './prefetch.js';

export interface AssetPrefetchDeps {
  cache: AssetCache;
  index: Pick<BootConfigIndex, 'artifact'>;
  /** The boot config Secrets (watched after the index's own handlers, so the index already knows a new config). */
  source: Pick<InformerSet<KubeObject>, 'addHandlers'>;
  registry: Registry;
  log: Logger;
  options?: Omit<PrefetchOptions, 'log' | 'onResult'>;
}

export function startAssetPrefetch({ cache, index, source, registry, log, options }: AssetPrefetchDeps): AssetPrefetcher {
  const results = new Counter({
    name: 'anvil_boot_assets_prefetch_total',
    help: 'Background downloads of assets that published boot configs refer to, by result (fetched, or failed and retried later)',
    labelNames: ['result'],
    registers: [registry],
  });
  for (const result of ['fetched', 'failed'] satisfies PrefetchResult[]) results.inc({ result }, 0);
  const prefetcher = new AssetPrefetcher(cache, (sha) => index.artifact(sha), { ...options, log, onResult: (result) => results.inc({ result }) });
  new Gauge({ name: 'anvil_boot_assets_prefetch_queued', help: 'Assets waiting for a prefetch download slot', registers: [registry], collect() { this.set(prefetcher.queued); } });
  new Gauge({ name: 'anvil_boot_assets_downloads_inflight', help: 'Asset downloads running now (prefetched or asked for by a machine)', registers: [registry], collect() { this.set(cache.inflightCount); } });
  new Gauge({ name: 'anvil_boot_assets_cached_bytes', help: 'Bytes of verified assets in the cache directory', registers: [registry], collect() { this.set(cache.cachedBytes()); } });
  prefetcher.watch(source);
  return prefetcher;
}
