// The assets route: a kernel, initrd or ISO that a published boot config refers to by sha256, served from the
// verified cache with Range support and immutable caching. An asset still being downloaded (prefetched when its
// config was published, or fetched now on first use) is streamed while it arrives, never ending as a complete
// answer before it is verified (../assets/stream.ts).
import type { IRouter } from 'express';
import { AssetError } from '../assets/cache.js';
import { ASSET_HEADERS, streamWhileDownloading } from '../assets/stream.js';
import { notFound, type BootRouteContext } from './context.js';

export function mountAssetRoutes(app: IRouter, { deps, limit }: BootRouteContext): void {
  app.get('/assets/:sha256/:name', async (req, res, next) => {
    try {
      if (limit.overLimit(req, res)) return;
      const artifact = /^[0-9a-fA-F]{64}$/.test(req.params.sha256) ? deps.index.artifact(req.params.sha256) : undefined;
      if (!artifact) return notFound(res);
      const found = deps.assets.lookup(artifact);
      const waitForVerified = req.method !== 'GET' || req.headers.range !== undefined;
      const path = found.path ?? (waitForVerified ? await found.download.result : await streamWhileDownloading(found.download, res, deps.assets.streamGraceMs));
      if (path === undefined) {
        const failure = found.download?.error;
        if (failure) deps.log.warn({ sha256: artifact.sha256.toLowerCase(), err: failure.message }, 'asset transfer cut short: the download failed after streaming began');
        return;
      }
      res.sendFile(path, { acceptRanges: true, cacheControl: true, immutable: true, maxAge: '1y', headers: { 'Content-Type': ASSET_HEADERS['Content-Type'] } }, (err) => {
        if (err && !res.headersSent) next(err);
      });
    } catch (err) {
      if (err instanceof AssetError) return void res.status(err.status).type('text/plain').send(`${err.message}\n`);
      next(err);
    }
  });
}
