// The webhook and the token-carrying routes, in process: what is acknowledged, what is refused, and that tokens never
// leave the request.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import { sha256Hex, toSecret, type BootConfig } from '@anvil/core/bootconfig';
import { silentLogger } from '@anvil/core/logging';
import { BootConfigIndex } from '../bootconfigs/index.js';
import type { InstallerEventRecord, SpoolRecord } from '../spool/records.js';
import { AssetCache } from '../assets/cache.js';
import { createBootApp, redact } from './app.js';

const MAC = '52:54:00:aa:bb:01';
const TOKEN = 'tok-current-0123456789';
const OLD_TOKEN = 'tok-previous-0123456789';
const ID = '11111111-1111-4111-8111-111111111111';
const OLD_ID = '22222222-2222-4222-8222-222222222222';

const installConfig = (closedAt?: string): BootConfig => ({
  mode: 'install',
  hostName: 'h1',
  hostNamespace: 'lab',
  hostUID: 'uid-1',
  mac: MAC,
  ipxe: '#!ipxe\nkernel x\n',
  install: {
    installationId: ID,
    revision: 1,
    attempt: 2,
    token: TOKEN,
    tokenSha256: sha256Hex(TOKEN),
    userData: '#cloud-config\n',
    metaData: 'instance-id: x\n',
    kernel: { url: 'http://m/k', sha256: 'a'.repeat(64) },
    initrd: { url: 'http://m/i', sha256: 'b'.repeat(64) },
  },
  ...(closedAt ? { closedInstall: { installationId: OLD_ID, revision: 1, attempt: 1, tokenSha256: sha256Hex(OLD_TOKEN), closedAt } } : {}),
});

describe('boot-server HTTP: webhook and tokens', () => {
  let server: Server;
  let base: string;
  let index: BootConfigIndex;
  const spooled: SpoolRecord[] = [];

  beforeAll(async () => {
    index = new BootConfigIndex();
    const app = createBootApp({
      index,
      assets: new AssetCache({ dir: '/nonexistent-anvil-test', log: silentLogger() }),
      spool: { append: async (r) => void spooled.push(...r) },
      log: silentLogger(),
      registry: new Registry(),
      publicURL: 'http://boot.test',
      eventGraceMs: 60_000,
      rateLimit: { perSecond: 1, burst: 40 },
    });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => (spooled.length = 0));

  const post = (token: string, body: string) => fetch(`${base}/webhook/${MAC.replace(/:/g, '-')}/${token}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  it('acknowledges a normalised event and refuses bad ones with a clear 400 before anything is spooled', async () => {
    index.upsert(toSecret(installConfig(), 'lab'));
    const good = await post(TOKEN, '{"name":"subiquity/Install/install","event_type":"start","description":"a\\ud800\\u0000b","timestamp":1700000000.5}');
    expect(good.status).toBe(200);
    const rec = spooled[0] as InstallerEventRecord;
    expect(rec.event.description).toBe('a\uFFFD\uFFFDb');
    expect(JSON.stringify(rec.raw)).not.toContain('\\u0000');
    for (const bad of ['{"name":"a","event_type":"start","timestamp":1e13}', '{"name":"a","event_type":"start","timestamp":"now"}', 'not json', '[]']) {
      const res = await post(TOKEN, bad);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/\w/);
    }
    expect(spooled).toHaveLength(1);
  });

  it('takes the events of the attempt that just ended during its grace period, until the machine boots again', async () => {
    index.upsert(toSecret(installConfig(new Date().toISOString()), 'lab'));
    const late = await post(OLD_TOKEN, '{"name":"subiquity/ErrorReporter/x","event_type":"finish","result":"FAIL"}');
    expect(late.status).toBe(200);
    expect(spooled[0]).toMatchObject({ installationId: OLD_ID, afterVerdict: true, install: { attempt: 1 } });
    // NoCloud never serves a finished attempt.
    expect((await fetch(`${base}/nocloud/${MAC.replace(/:/g, '-')}/${OLD_TOKEN}/user-data`)).status).toBe(404);
    // The machine boots again: the grace period is over.
    expect((await fetch(`${base}/ipxe/${MAC.replace(/:/g, '-')}`)).status).toBe(200);
    expect((await post(OLD_TOKEN, '{"name":"x","event_type":"start"}')).status).toBe(404);
    expect((await post(TOKEN, '{"name":"x","event_type":"start"}')).status).toBe(200);
  });

  it('ends the grace period after --event-grace-seconds', async () => {
    index.upsert(toSecret({ ...installConfig(new Date(Date.now() - 61_000).toISOString()), closedInstall: { installationId: '33333333-3333-4333-8333-333333333333', revision: 1, attempt: 1, tokenSha256: sha256Hex('tok-3'), closedAt: new Date(Date.now() - 61_000).toISOString() } }, 'lab'));
    expect((await post('tok-3', '{"name":"x","event_type":"start"}')).status).toBe(404);
  });

  it('redacts tokens whatever the case or percent-encoding of the route', () => {
    const mac = '52-54-00-aa-bb-01';
    for (const path of [`/nocloud/${mac}/${TOKEN}/user-data`, `/NOCLOUD/${mac}/${TOKEN}/user-data`, `/%6Eocloud/${mac}/${TOKEN}/user-data`, `/WebHook/${mac}/${TOKEN}`, `/nocloud/${TOKEN}/${TOKEN}/x`, `/webhook/${mac}/${TOKEN}/extra/${TOKEN}`]) {
      const out = redact(path);
      expect(out).not.toContain(TOKEN);
      expect(out).toMatch(/REDACTED/);
    }
    expect(redact(`/NoCloud/${mac}/${TOKEN}/user-data`)).toBe(`/nocloud/${mac}/REDACTED/user-data`);
    expect(redact('/ipxe/52-54-00-aa-bb-01')).toBe('/ipxe/52-54-00-aa-bb-01');
  });

  it('answers a flood without a token from one address with 429, while a valid installer is never limited', async () => {
    index.upsert(toSecret(installConfig(), 'lab'));
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await fetch(`${base}/ipxe/52-54-00-00-${String(i % 100).padStart(2, '0')}-99`)).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    const limited = await fetch(`${base}/ipxe/52-54-00-00-00-98`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.text()).toMatch(/too many requests/);
    for (let i = 0; i < 20; i++) expect((await post(TOKEN, `{"name":"x","event_type":"start","timestamp":${i}}`)).status).toBe(200);
  });
});
