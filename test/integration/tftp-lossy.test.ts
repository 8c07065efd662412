// Packet loss and duplication between a client and the TFTP server (a seeded, deterministic UDP proxy dropping and
// duplicating packets in both directions): every transfer still completes with the right bytes.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { TftpServer } from '@anvil/boot-server/src/tftp/server.js';
import { tftpGet } from '../tftp/client.js';
import { LossyProxy } from '../tftp/lossy-proxy.js';
import { requireClient, run, sha256File, writeRandomFile } from '../tftp/tools.js';

let dir: string;
let root: string;
let server: TftpServer;
let serverPort: number;
const registry = new Registry();
const proxies: LossyProxy[] = [];
const FILE = 'lossy.bin';
const SIZE = 60_000 + 17;
let original: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anvil-tftp-lossy-'));
  root = join(dir, 'root');
  await mkdir(root);
  await writeRandomFile(join(root, FILE), SIZE);
  await writeRandomFile(join(root, 'exact.bin'), 64 * 512);
  original = await readFile(join(root, FILE));
  // A short first server timer keeps the test quick (curl asks for `timeout 6`, which this server declines); its
  // backoff up to 1.5 s lets atftp's 1 s timer fire (atftp re-ACKs a repeated block only once, then waits for its
  // timer, which every packet it receives restarts).
  server = new TftpServer({ host: '127.0.0.1', port: 0, root, registry, timeoutMs: 50, maxTimeoutMs: 1500, retries: 15, maxClientTimeoutSeconds: 1 });
  serverPort = (await server.start()).port;
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function proxy(seed: number, drop = 0.1, duplicate = 0.1): Promise<{ p: LossyProxy; port: number }> {
  const p = new LossyProxy({ serverPort, seed, drop, duplicate });
  proxies.push(p);
  return { p, port: await p.start() };
}

function expectInjected(p: LossyProxy): void {
  // The proxy really dropped and duplicated in both directions (otherwise the test proves nothing).
  expect(p.stats.toClient.dropped).toBeGreaterThan(0);
  expect(p.stats.toClient.duplicated).toBeGreaterThan(0);
  expect(p.stats.toServer.dropped).toBeGreaterThan(0);
  expect(p.stats.toServer.duplicated).toBeGreaterThan(0);
}

describe('TFTP through a lossy, duplicating link', () => {
  it.each([
    ['lock-step, blksize 512', 1, {}],
    ['blksize 1468', 2, { blksize: 1468, tsize: 0 }],
    ['windowsize 4', 3, { windowsize: 4 }],
    ['windowsize 16, blksize 1024', 4, { windowsize: 16, blksize: 1024 }],
  ])('our test client, %s', async (_label, seed, options) => {
    const { p, port } = await proxy(seed);
    const r = await tftpGet({ port, file: FILE, options, timeoutMs: 300, retries: 50 });
    expect(r.data.equals(original)).toBe(true);
    expectInjected(p);
  }, 60_000);

  it('our test client, a file of exactly 64 blocks (final empty block) with windowsize 8', async () => {
    const { port } = await proxy(5, 0.15, 0.15);
    const r = await tftpGet({ port, file: 'exact.bin', options: { windowsize: 8 }, timeoutMs: 300, retries: 50 });
    expect(r.data.equals(await readFile(join(root, 'exact.bin')))).toBe(true);
  }, 60_000);

  it.each([
    ['lock-step', 11, []],
    ['windowsize 8', 12, ['--option', 'windowsize 8']],
    ['blksize 1468 + tsize', 13, ['--option', 'blksize 1468', '--option', 'tsize 0']],
  ])('atftp, %s', async (_label, seed, options) => {
    const atftp = requireClient('atftp');
    const { p, port } = await proxy(seed);
    const out = join(dir, `atftp-${seed}.bin`);
    const r = await run(atftp, ['--tftp-timeout', '1', ...options, '-g', '-r', FILE, '-l', out, '127.0.0.1', String(port)]);
    expect(r.code).toBe(0);
    expect(await sha256File(out)).toBe(await sha256File(join(root, FILE)));
    expectInjected(p);
  }, 120_000);

  it.each([[21, 512], [22, 1468]])('curl (seed %i, blksize %i)', async (seed, blksize) => {
    const curl = requireClient('curl');
    const { p, port } = await proxy(seed);
    const out = join(dir, `curl-${seed}.bin`);
    const r = await run(curl, ['-sS', '-o', out, `tftp://127.0.0.1:${port}/${FILE}`, '--tftp-blksize', String(blksize)]);
    expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({ code: 0, stderr: '' });
    expect(await sha256File(out)).toBe(await sha256File(join(root, FILE)));
    expectInjected(p);
  }, 120_000);

  it('counted retransmissions', async () => {
    const m = await registry.getSingleMetric('anvil_tftp_retransmits_total')?.get();
    expect(m?.values[0]?.value ?? 0).toBeGreaterThan(0);
  });
});
