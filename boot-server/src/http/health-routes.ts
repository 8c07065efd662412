// What the kubelet and Prometheus ask: liveness, readiness (every boot config known) and metrics.
import type { IRouter } from 'express';
import type { BootRouteContext } from './context.js';

export function mountHealthRoutes(app: IRouter, { deps }: BootRouteContext): void {
  app.get('/healthz', (_req, res) => void res.type('text/plain').send('ok\n'));
  app.get('/readyz', (_req, res) => {
    if (deps.ready && !deps.ready()) return void res.status(503).type('text/plain').send('boot configs not synced\n');
    res.type('text/plain').send('ok\n');
  });
  app.get('/metrics', async (_req, res) => void res.type(deps.registry.contentType).send(await deps.registry.metrics()));
}
