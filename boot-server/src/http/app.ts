// The boot-server's HTTP side, composed of one module per concern: iPXE scripts, NoCloud seeds, cached assets, the
// installer's progress webhook, health and metrics, and what they share (request log with tokens redacted, rate limit
// of requests without a token, 404 and error handler). The plain requests of the scripts, seeds and webhook are served
// by node:http fast paths in front of express.
import express from 'express';
import { mountAssetRoutes } from './asset-routes.js';
import { createRouteContext } from './context.js';
import { inFrontOfExpress } from './express-handle.js';
import type { BootHttpDeps } from './deps.js';
import { mountFallbacks } from './fallback.js';
import { mountHealthRoutes } from './health-routes.js';
import { mountIgnitionRoutes } from './ignition-routes.js';
import { mountIpxeRoutes } from './ipxe-routes.js';
import { mountNoCloudRoutes } from './nocloud-routes.js';
import { mountPreseedRoutes } from './preseed-routes.js';
import { requestLog } from './request-log.js';
import { scriptFastPath } from './script-fast-path.js';
import { mountWebhook } from './webhook-route.js';

export type { BootHttpDeps } from './deps.js';
export { redact } from './redact.js';
export { DEFAULT_EVENT_GRACE_MS } from './webhook.js';

export function createBootApp(deps: BootHttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const ctx = createRouteContext(deps);
  app.use(requestLog(ctx.answered));
  // The plain forms of the boot scripts' and seeds' URLs never reach express (script-fast-path.ts); the routes below
  // answer the rest the same way.
  inFrontOfExpress(app, scriptFastPath(ctx));
  mountIpxeRoutes(app, ctx);
  mountNoCloudRoutes(app, ctx);
  mountIgnitionRoutes(app, ctx);
  mountPreseedRoutes(app, ctx);
  mountAssetRoutes(app, ctx);
  mountWebhook(app, ctx);
  mountHealthRoutes(app, ctx);
  if (deps.extraRoutes) app.use(deps.extraRoutes);
  mountFallbacks(app, ctx);
  return app;
}
