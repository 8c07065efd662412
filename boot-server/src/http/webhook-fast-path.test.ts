// The plain node:http webhook path in front of express: it takes only the plain form of the URL, answers exactly
// what the express route answers for the same body, and keeps the route's guarantees (size cap, nothing spooled
// for a refused or abandoned post, a spool failure answered 500).
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { sha256Hex, toSecret, type BootConfig } from '@anvil/core/bootconfig';
import { silentLogger } from '@anvil/core/logging';
import { BootConfigIndex } from '../bootconfigs/index.js';
import type { InstallerEventRecord, SpoolRecord } from '../spool/records.js';
import { AssetCache } from '../assets/cache.js';
import { createBootApp } from './app.js';
import { plainWebhookPath, webhookFastPath } from './webhook-fast-path.js';
import { WebhookReceiver } from './webhook.js';

const MAC = '52:54:00:aa:bb:02';
const DASHED = MAC.replace(/:/g, '-');
const TOKEN = 'tok-fast-0123456789';

const config: BootConfig = {
  mode: 'install',
  hostName: 'h2',
  hostNamespace: 'lab',
  hostUID: 'uid-2',
  mac: MAC,
  ipxe: '#!ipxe\n',
  install: {
    installationId: '44444444-4444-4444-8444-444444444444',
    revision: 3,
    attempt: 1,
    token: TOKEN,
    tokenSha256: sha256Hex(TOKEN),
    userData: '#cloud-config\n',
    metaData: 'instance-id: x\n',
    kernel: { url: 'http://m/k', sha256: 'a'.repeat(64) },
    initrd: { url: 'http://m/i', sha256: 'b'.repeat(64) },
  },
};

interface Answer {
  status: number;
  body: string;
  contentType: string | undefined;
}

/** Posts raw bytes (no client-side normalisation) and reads the whole answer. */
function post(base: string, path: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, contentType: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const listen = (server: Server): Promise<string> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

describe('plainWebhookPath', () => {
  it('takes /webhook/<mac>/<token> only; anything express must decode or route goes to express', () => {
    expect(plainWebhookPath(`/webhook/${DASHED}/${TOKEN}`)).toEqual({ mac: DASHED, token: TOKEN });
    for (const url of [`/WEBHOOK/${DASHED}/${TOKEN}`, `/webhook/${DASHED}/${TOKEN}/`, `/webhook/${DASHED}/${TOKEN}?x=1`, `/webhook/${DASHED}/%74ok`, `/webhook//${TOKEN}`, `/webhook/${DASHED}`, `/webhook/${DASHED}/`, `/webhook/${DASHED}/a/b`, '/ipxe/x', 'http://h/webhook/a/b']) {
      expect(plainWebhookPath(url)).toBeUndefined();
    }
  });
});

describe('webhook fast path', () => {
  const spooled: SpoolRecord[] = [];
  let failNextAppend = false;
  const spool = {
    append: async (records: SpoolRecord[]): Promise<void> => {
      if (failNextAppend) {
        failNextAppend = false;
        throw new Error('disk full');
      }
      spooled.push(...records);
    },
  };
  let index: BootConfigIndex;
  let app: Server;
  let appBase: string;

  beforeAll(async () => {
    index = new BootConfigIndex();
    index.upsert(toSecret(config, 'lab'));
    const express = createBootApp({
      index,
      assets: new AssetCache({ dir: '/nonexistent-anvil-test', log: silentLogger() }),
      spool,
      log: silentLogger(),
      registry: new Registry(),
      publicURL: 'http://boot.test',
      maxWebhookBytes: 1024,
    });
    app = createServer(express);
    appBase = await listen(app);
  });
  afterAll(async () => close(app));
  beforeEach(() => (spooled.length = 0));

  it('answers plain posts without express, and leaves every other request to it', async () => {
    const handled: string[] = [];
    const fast = webhookFastPath({
      receiver: new WebhookReceiver({ index, spool, eventGraceMs: 60_000, refuseUnknown: () => ({ status: 404, contentType: 'text/plain', body: 'no\n' }), countEvent: () => undefined }),
      onAnswer: () => undefined,
      onError: () => undefined,
    });
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (fast(req, res)) return void handled.push(`fast ${req.url}`);
      handled.push(`other ${req.method} ${req.url}`);
      req.resume();
      res.end('other');
    });
    const base = await listen(server);
    try {
      expect(await post(base, `/webhook/${DASHED}/${TOKEN}`, '{"name":"n","event_type":"start"}')).toMatchObject({ status: 200, body: '{"accepted":true}' });
      expect((await post(base, `/webhook/${DASHED}/${TOKEN}`, '{}', { 'Content-Type': 'application/json; charset=UTF-8' })).status).toBe(400);
      await post(base, `/webhook/${DASHED}/${TOKEN}`, '{}', { 'Content-Type': 'text/plain; charset=latin1' });
      await post(base, `/webhook/${DASHED}/${TOKEN}`, gzipSync('{}'), { 'Content-Encoding': 'gzip' });
      await post(base, `/Webhook/${DASHED}/${TOKEN}`, '{}');
      expect(handled).toEqual([
        `fast /webhook/${DASHED}/${TOKEN}`,
        `fast /webhook/${DASHED}/${TOKEN}`,
        `other POST /webhook/${DASHED}/${TOKEN}`,
        `other POST /webhook/${DASHED}/${TOKEN}`,
        `other POST /Webhook/${DASHED}/${TOKEN}`,
      ]);
      expect(spooled).toHaveLength(1);
    } finally {
      await close(server);
    }
  });

  it('gives the same answer and the same spooled record as the express route for the same bytes', async () => {
    const bodies: (string | Buffer)[] = [
      '{"name":"subiquity/Install/install","event_type":"start","description":"a\\ud800\\u0000b","timestamp":1700000000.5,"origin":"curtin"}',
      '{"name":"x","event_type":"finish","result":"FAIL","extra":{"k\\u0000":["\\udfff"]}}',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"name":"bom","event_type":"start"}')]),
      Buffer.concat([Buffer.from('{"name":"bad-utf8 '), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from('","event_type":"start"}')]),
      '{"name":"a","event_type":"start","timestamp":1e13}',
      '{"name":"a","event_type":"not a word"}',
      'not json',
      '[]',
      '',
      `{"name":"big","event_type":"start","description":"${'d'.repeat(2000)}"}`,
    ];
    for (const body of bodies) {
      spooled.length = 0;
      const fast = await post(appBase, `/webhook/${DASHED}/${TOKEN}`, body);
      const fastRecord = spooled[0] as InstallerEventRecord | undefined;
      spooled.length = 0;
      // Upper case: express routes it case-insensitively, the fast path leaves it alone.
      const viaExpress = await post(appBase, `/WEBHOOK/${DASHED}/${TOKEN}`, body);
      const expressRecord = spooled[0] as InstallerEventRecord | undefined;
      const label = body.toString().slice(0, 40);
      expect({ label, ...fast }).toEqual({ label, ...viaExpress });
      expect(fast.contentType).toMatch(fast.status === 200 || fast.status === 400 || fast.status === 413 ? /^application\/json/ : /^text\/plain/);
      const comparable = (r: InstallerEventRecord | undefined) => r && { ...r, receivedAt: 'x', eventKey: r.eventKey.replace(/\|r.*$/, '|r') };
      expect(comparable(fastRecord)).toEqual(comparable(expressRecord));
    }
  });

  it('refuses a body over the limit with 413 whether or not its length was declared, and spools nothing', async () => {
    const big = `{"name":"x","event_type":"start","description":"${'x'.repeat(2000)}"}`;
    const declared = await post(appBase, `/webhook/${DASHED}/${TOKEN}`, big);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toEqual({ error: 'body larger than 1024 bytes' });
    const chunked = await new Promise<Answer>((resolve, reject) => {
      const req = request(`${appBase}/webhook/${DASHED}/${TOKEN}`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, contentType: res.headers['content-type'] }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(200));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(spooled).toHaveLength(0);
    // The connection and the server are fine afterwards.
    expect((await post(appBase, `/webhook/${DASHED}/${TOKEN}`, '{"name":"after","event_type":"start"}')).status).toBe(200);
  });

  it('refuses an unknown token with 404 and answers 500 with a JSON error when the spool fails, acknowledging nothing', async () => {
    expect(await post(appBase, `/webhook/${DASHED}/wrong-token`, '{"name":"x","event_type":"start"}')).toMatchObject({ status: 404, body: 'not found\n' });
    failNextAppend = true;
    const failed = await post(appBase, `/webhook/${DASHED}/${TOKEN}`, '{"name":"x","event_type":"start"}');
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body)).toEqual({ error: 'internal error' });
    expect(spooled).toHaveLength(0);
  });

  it('spools nothing for a post whose client goes away before its body is complete', async () => {
    await new Promise<void>((resolve) => {
      const req = request(`${appBase}/webhook/${DASHED}/${TOKEN}`, { method: 'POST', headers: { 'Content-Length': '100' } });
      req.on('error', () => resolve());
      req.write('{"name":"cut","event_type":"start"');
      setImmediate(() => req.destroy());
      req.on('close', () => resolve());
    });
    expect((await post(appBase, `/webhook/${DASHED}/${TOKEN}`, '{"name":"next","event_type":"start"}')).status).toBe(200);
    expect(spooled.map((r) => (r as InstallerEventRecord).event.name)).toEqual(['next']);
  });
});
