// Health, readiness and metrics: what the kubelet and Prometheus ask.
import { serveBootApp, type ServedBootApp } from './testing/serve-boot-app.js';

describe('boot-server HTTP: health, readiness, metrics', () => {
  let ready = false;
  let app: ServedBootApp;
  beforeAll(async () => (app = await serveBootApp({ ready: () => ready })));
  afterAll(async () => app.close());

  it('is healthy at once, and ready only once its boot configs are synced', async () => {
    const health = await fetch(`${app.base}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    const notReady = await fetch(`${app.base}/readyz`);
    expect([notReady.status, notReady.headers.get('content-type'), await notReady.text()]).toEqual([503, 'text/plain; charset=utf-8', 'boot configs not synced\n']);
    ready = true;
    const isReady = await fetch(`${app.base}/readyz`);
    expect([isReady.status, await isReady.text()]).toEqual([200, 'ok\n']);
  });

  it('is ready at once without a readiness check', async () => {
    const always = await serveBootApp();
    try {
      expect((await fetch(`${always.base}/readyz`)).status).toBe(200);
    } finally {
      await always.close();
    }
  });

  it('exposes its registry, with requests counted by route pattern and status code', async () => {
    await fetch(`${app.base}/ipxe/not-a-mac`);
    await fetch(`${app.base}/no/such/thing`);
    const res = await fetch(`${app.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(app.registry.contentType);
    const text = await res.text();
    expect(text).toContain('anvil_boot_http_requests_total{route="/ipxe/:mac",code="400"} 1');
    expect(text).toContain('anvil_boot_http_requests_total{route="unmatched",code="404"} 1');
    expect(text).toContain('anvil_boot_http_requests_total{route="/healthz",code="200"} 1');
    const names = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    expect(names).toEqual(['anvil_boot_http_requests_total', 'anvil_webhook_events_total', 'anvil_boot_http_rate_limited_total']);
  });
});
