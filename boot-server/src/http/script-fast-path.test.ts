// The boot scripts' and seeds' fast path (node:http in front of express): the plain forms it takes and the forms it
// leaves to express must give the same answers, records, metrics and logs.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { toSecret } from '@anvil/core/bootconfig';
import { silentLogger } from '@anvil/core/logging';
import type { AssetCache } from '../assets/cache.js';
import { BootConfigIndex } from '../bootconfigs/index.js';
import { createRouteContext } from './context.js';
import { scriptFastPath } from './script-fast-path.js';
import { installConfig, serveBootApp, type ServedBootApp } from './testing/serve-boot-app.js';

const MAC = '52:54:00:3c:00:01';
const DASHED = MAC.replace(/:/g, '-');
const TOKEN = 'tok-fastpath-0123456789';

interface Seen {
  status: number;
  type: string | null;
  body: string;
}

describe('boot-server HTTP: the fast path of boot scripts and seeds', () => {
  let app: ServedBootApp;
  beforeAll(async () => {
    app = await serveBootApp({ logLevel: 'debug', rateLimit: { perSecond: 0, burst: 1000 } });
    app.index.upsert(toSecret(installConfig(MAC, TOKEN), 'lab'));
  });
  afterAll(async () => app.close());
  beforeEach(() => (app.spooled.length = 0));

  const get = async (path: string): Promise<Seen & { records: unknown[] }> => {
    app.spooled.length = 0;
    const res = await fetch(`${app.base}${path}`);
    const seen = { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
    // the record without its time, which differs between two requests
    return { ...seen, records: app.spooled.map((r) => ({ ...r, time: undefined })) };
  };

  it.each([
    ['the machine script, percent-encoded MAC', `/ipxe/${DASHED}?arch=x86_64&platform=efi`, `/ipxe/${encodeURIComponent(MAC)}?arch=x86_64&platform=efi`],
    ['the machine script, other case', `/ipxe/${DASHED}`, `/IPXE/${DASHED}`],
    ['the machine script, trailing slash', `/ipxe/${DASHED}`, `/ipxe/${DASHED}/`],
    ['an unknown machine', '/ipxe/52-54-00-3c-ff-ff', '/Ipxe/52-54-00-3c-ff-ff'],
    ['a malformed MAC', '/ipxe/zz', '/IPXE/zz'],
    ['the entry script', '/boot.ipxe', '/BOOT.IPXE'],
    ['a seed file', `/nocloud/${DASHED}/${TOKEN}/user-data`, `/nocloud/${DASHED}/${TOKEN}/user%2Ddata`],
    ['a seed with a wrong token', `/nocloud/${DASHED}/wrong/user-data`, `/NoCloud/${DASHED}/wrong/user-data`],
  ])('answers %s as express does', async (_what, plain, routedByExpress) => {
    const fast = await get(plain);
    const slow = await get(routedByExpress);
    // the records name the path as asked
    const withoutPath = (records: unknown[]) => records.map((r) => ({ ...(r as object), path: undefined }));
    expect({ ...fast, records: withoutPath(fast.records) }).toEqual({ ...slow, records: withoutPath(slow.records) });
  });

  it('takes the facts of a repeated query key as express does: not at all', async () => {
    await get(`/ipxe/${DASHED}?arch=x86_64&arch=arm64&platform=efi`);
    expect(app.spooled).toMatchObject([{ facts: { platform: 'efi' } }]);
  });

  it('refuses a seed named after an object property (not a NoCloud file)', async () => {
    for (const file of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect((await get(`/nocloud/${DASHED}/${TOKEN}/${file}`)).status).toBe(404);
    }
    expect(app.spooled).toEqual([]);
  });

  it('answers HEAD with the headers of GET and no body, and records the boot request', async () => {
    const head = await new Promise<{ status?: number; length?: string; body: string }>((resolve, reject) => {
      const req = request(`${app.base}/ipxe/${DASHED}`, { method: 'HEAD' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode, length: res.headers['content-length'], body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(head).toEqual({ status: 200, length: String(Buffer.byteLength('#!ipxe\nkernel x\n')), body: '' });
    expect(app.spooled).toMatchObject([{ served: 'InstallScript' }]);
  });

  it('counts its answers under the route patterns express names, and logs their paths without query or token', async () => {
    const before = await counts();
    await get(`/ipxe/${DASHED}?serial=S1`);
    await get(`/nocloud/${DASHED}/${TOKEN}/meta-data`);
    await get('/boot.ipxe');
    const after = await counts();
    for (const route of ['/ipxe/:mac', '/nocloud/:mac/:token/:file', '/boot.ipxe']) expect({ route, n: (after[route] ?? 0) - (before[route] ?? 0) }).toEqual({ route, n: 1 });
    const paths = app.logs.filter((l) => l.msg === 'request').map((l) => l.path);
    expect(paths).toEqual(expect.arrayContaining([`/ipxe/${DASHED}`, `/nocloud/${DASHED}/REDACTED/meta-data`, '/boot.ipxe']));
    expect(JSON.stringify(app.logs)).not.toContain(TOKEN);
  });

  it('answers 500 without internals when the record cannot be stored, and logs the path without its token', async () => {
    app.failNextAppend();
    const res = await get(`/nocloud/${DASHED}/${TOKEN}/user-data`);
    expect({ status: res.status, body: JSON.parse(res.body) as unknown }).toEqual({ status: 500, body: { error: 'internal error' } });
    expect(app.logs.at(-2)).toMatchObject({ level: 50, msg: 'request failed', err: 'disk full', path: `/nocloud/${DASHED}/REDACTED/user-data` });
  });

  async function counts(): Promise<Record<string, number>> {
    const metric = await app.registry.getSingleMetric('anvil_boot_http_requests_total')!.get();
    const byRoute: Record<string, number> = {};
    for (const v of metric.values) byRoute[String(v.labels.route)] = (byRoute[String(v.labels.route)] ?? 0) + v.value;
    return byRoute;
  }
});

describe('boot-server HTTP: which requests the fast path takes', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const index = new BootConfigIndex();
    index.upsert(toSecret(installConfig(MAC, TOKEN), 'lab'));
    const ctx = createRouteContext({ index, spool: { append: async () => undefined }, log: silentLogger(), registry: new Registry(), publicURL: 'http://boot.test/', assets: {} as AssetCache });
    const fastPath = scriptFastPath(ctx);
    // what the fast path does not take is answered 418 here (express, in the boot-server)
    server = createServer((req, res) => void (fastPath(req, res) || res.writeHead(418).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each([
    ['/boot.ipxe', 200],
    [`/ipxe/${DASHED}`, 200],
    [`/ipxe/${DASHED}?arch=x86_64`, 200],
    ['/ipxe/zz', 400],
    [`/nocloud/${DASHED}/${TOKEN}/user-data`, 200],
    [`/nocloud/${DASHED}/wrong/user-data`, 404],
    [`/IPXE/${DASHED}`, 418],
    [`/ipxe/${DASHED}/`, 418],
    [`/ipxe/${encodeURIComponent(MAC)}`, 418],
    [`/nocloud/${DASHED}/${TOKEN}`, 418],
    [`/nocloud/${DASHED}/${TOKEN}/user-data/x`, 418],
    ['/assets/x', 418],
    ['/healthz', 418],
    ['/ipxe/', 418],
  ])('GET %s: %d', async (path, status) => {
    const res = await fetch(`${base}${path}`);
    await res.arrayBuffer();
    expect(res.status).toBe(status);
  });

  it('leaves other methods to express', async () => {
    const res = await fetch(`${base}/ipxe/${DASHED}`, { method: 'POST', body: 'x' });
    await res.arrayBuffer();
    expect(res.status).toBe(418);
  });
});
