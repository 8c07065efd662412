// The assets route: a kernel, initrd or ISO that a published boot config refers to by sha256, served from the
// verified cache (fetched from upstream on first use) with Range support and immutable caching.
import type { IRouter } from 'express';
import { AssetError } from './assets.js';
import { notFound, type BootRouteContext } from './context.js';

export function mountAssetRoutes(app: IRouter, { deps, limit }: BootRouteContext): void {
  app.get('/assets/:sha256/:name', async (req, res, next) => {
    try {
      if (limit.overLimit(req, res)) return;
      const artifact = /^[0-9a-fA-F]{64}$/.test(req.params.sha256) ? deps.index.artifact(req.params.sha256) : undefined;
      if (!artifact) return notFound(res);
      const path = await deps.assets.ensure(artifact);
      res.sendFile(path, { acceptRanges: true, cacheControl: true, immutable: true, maxAge: '1y', headers: { 'Content-Type': 'application/octet-stream' } }, (err) => {
        if (err && !res.headersSent) next(err);
      });
    } catch (err) {
      if (err instanceof AssetError) return void res.status(err.status).type('text/plain').send(`${err.message}\n`);
      next(err);
    }
  });
}
