// What every route shares: the request log (tokens redacted), the rate limit of requests without a token, the 404
// for anything else and the error handler (a client's error gets its status, anything else a 500 without internals).
import { toSecret } from '@anvil/core/bootconfig';
import { installConfig, serveBootApp, type ServedBootApp } from './testing/serve-boot-app.js';

const MAC = '52:54:00:4d:00:01';
const DASHED = MAC.replace(/:/g, '-');
const TOKEN = 'tok-middleware-0123456789';

describe('boot-server HTTP: shared middleware', () => {
  let app: ServedBootApp;
  beforeAll(async () => {
    app = await serveBootApp({ logLevel: 'debug', maxWebhookBytes: 100, rateLimit: { perSecond: 0.01, burst: 5 } });
    app.index.upsert(toSecret(installConfig(MAC, TOKEN), 'lab'));
  });
  afterAll(async () => app.close());

  it('logs each request at debug level with its token redacted', async () => {
    await fetch(`${app.base}/nocloud/${DASHED}/${TOKEN}/user-data`);
    await fetch(`${app.base}/webhook/${DASHED}/${TOKEN}`, { method: 'POST', body: '{"name":"n","event_type":"start"}' });
    const requests = app.logs.filter((l) => l.msg === 'request');
    expect(requests).toEqual([
      expect.objectContaining({ level: 20, method: 'GET', path: `/nocloud/${DASHED}/REDACTED/user-data`, status: 200, ip: expect.stringMatching(/127\.0\.0\.1/), ms: expect.any(Number) }),
      expect.objectContaining({ level: 20, method: 'POST', path: `/webhook/${DASHED}/REDACTED`, status: 200 }),
    ]);
    expect(JSON.stringify(app.logs)).not.toContain(TOKEN);
  });

  it('gives a client error its status and message as JSON', async () => {
    // Upper case: the express route (the fast path takes only the plain form).
    const big = await fetch(`${app.base}/WEBHOOK/${DASHED}/${TOKEN}`, { method: 'POST', body: 'x'.repeat(101) });
    expect([big.status, await big.json()]).toEqual([413, { error: 'body larger than 100 bytes' }]);
    const encoded = await fetch(`${app.base}/WEBHOOK/${DASHED}/${TOKEN}`, { method: 'POST', body: 'x', headers: { 'content-encoding': 'x-unknown' } });
    expect([encoded.status, await encoded.json()]).toEqual([415, { error: 'unsupported content encoding "x-unknown"' }]);
  });

  it('answers anything else 404 (an OPTIONS request too), and 429 once its address sent too many', async () => {
    const options = await fetch(`${app.base}/boot.ipxe`, { method: 'OPTIONS' });
    expect([options.status, options.headers.get('allow'), await options.text()]).toEqual([404, null, 'not found\n']);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await fetch(`${app.base}/no/such/${i}`)).status);
    expect(statuses).toContain(404);
    expect(statuses.at(-1)).toBe(429);
    const limited = await fetch(`${app.base}/no/such/thing`);
    expect([limited.status, limited.headers.get('retry-after'), await limited.text()]).toEqual([429, '100', 'too many requests from this address; slow down\n']);
    expect(app.logs.find((l) => l.msg === 'rate limited')).toMatchObject({ level: 30, path: expect.stringMatching(/^\/no\/such\//) });
  });
});
