// What no route answered: a 404 (counted against the rate limit, so scanning is slowed too), and the error handler:
// errors a client can cause get their status; anything else is a 500 without internals.
import type { IRouter, NextFunction, Request, Response } from 'express';
import { notFound, type BootRouteContext } from './context.js';
import { DEFAULT_MAX_WEBHOOK_BYTES } from './webhook.js';

export function mountFallbacks(app: IRouter, ctx: BootRouteContext): void {
  app.use((req, res) => {
    if (!ctx.limit.overLimit(req, res)) notFound(res);
  });
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.too.large') return void res.status(413).json({ error: `body larger than ${ctx.deps.maxWebhookBytes ?? DEFAULT_MAX_WEBHOOK_BYTES} bytes` });
    if (err.status && err.status >= 400 && err.status < 500) return void res.status(err.status).json({ error: err.message });
    ctx.failed(err, req.path);
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  });
}
