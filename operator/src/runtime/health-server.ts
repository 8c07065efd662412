import express from 'express';
import type { Registry } from 'prom-client';

export interface HealthAppOptions {
  registry: Registry;
  ready: () => boolean;
  /** Extra read-only routes served on the same port (the history API). */
  extraRoutes?: express.Router;
}

/** /metrics (Prometheus), /healthz (the process is alive) and /readyz (caches have synced). */
export function createHealthApp(options: HealthAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    if (options.ready()) res.type('text/plain').send('ok');
    else res.status(503).type('text/plain').send('caches not synced');
  });
  app.get('/metrics', async (_req, res) => {
    res.type(options.registry.contentType).send(await options.registry.metrics());
  });
  if (options.extraRoutes) app.use(options.extraRoutes);
  return app;
}
