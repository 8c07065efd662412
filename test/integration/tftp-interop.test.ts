// Interop of the TFTP server with real clients: tftp-hpa (`tftp`), atftp and curl, over loopback. The clients come
// from scripts/setup.sh; a missing one makes these tests FAIL (CI must not skip them silently).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { TftpServer } from '@anvil/boot-server/src/tftp/server.js';
import { BIG_FIXTURE, SMALL_FIXTURES, requireClient, run, sha256File, writeFixtures } from '../tftp/tools.js';

let dir: string;
let root: string;
let outDir: string;
let sums: Record<string, string>;
let server: TftpServer;
let port: number;
const registry = new Registry();
let seq = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anvil-tftp-interop-'));
  root = join(dir, 'root');
  outDir = join(dir, 'out');
  await mkdir(root);
  await mkdir(outDir);
  sums = await writeFixtures(root, true);
  server = new TftpServer({ host: '127.0.0.1', port: 0, root, registry });
  port = (await server.start()).port;
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const dest = (name: string): string => join(outDir, `${++seq}-${name}`);
const small = Object.keys(SMALL_FIXTURES);

async function expectSame(name: string, downloaded: string): Promise<void> {
  expect(await sha256File(downloaded)).toBe(sums[name]);
}

describe('tftp-hpa client (no options, lock-step)', () => {
  const get = async (name: string, mode = 'binary'): Promise<string> => {
    const out = dest(name);
    const r = await run(requireClient('tftp'), ['-m', mode, '127.0.0.1', String(port), '-c', 'get', name, out]);
    // tftp-hpa exits 0 even when the transfer failed: it reports on stdout/stderr.
    expect({ code: r.code, output: `${r.stdout}${r.stderr}`.trim() }).toEqual({ code: 0, output: '' });
    return out;
  };

  it.each(small)('downloads %s', async (name) => {
    await expectSame(name, await get(name));
  });

  it('downloads a file of more than 65535 blocks (block numbers roll over)', async () => {
    await expectSame(BIG_FIXTURE.name, await get(BIG_FIXTURE.name));
  }, 120_000);

  it('accepts netascii (served as octet: LF-only text arrives unchanged)', async () => {
    await expectSame('text.txt', await get('text.txt', 'netascii'));
  });

  it('reports a missing file as error 1', async () => {
    const r = await run(requireClient('tftp'), ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', 'missing.bin', dest('missing')]);
    expect(`${r.stdout}${r.stderr}`).toMatch(/Error code 1: File not found/);
  });
});

describe('atftp client (options, windowsize)', () => {
  const variants: Array<[string, string[]]> = [
    ['no options', []],
    ['windowsize 8', ['--option', 'windowsize 8']],
    ['blksize 1468', ['--option', 'blksize 1468']],
    ['tsize 0', ['--option', 'tsize 0']],
    ['windowsize 8 + blksize 1468 + tsize 0', ['--option', 'windowsize 8', '--option', 'blksize 1468', '--option', 'tsize 0']],
    ['blksize 8 + windowsize 4', ['--option', 'blksize 8', '--option', 'windowsize 4']],
    ['blksize 65464 (clamped to 1468)', ['--option', 'blksize 65464']],
  ];
  const get = async (name: string, options: string[]): Promise<string> => {
    const out = dest(name);
    const r = await run(requireClient('atftp'), ['--tftp-timeout', '1', ...options, '-g', '-r', name, '-l', out, '127.0.0.1', String(port)]);
    expect({ code: r.code, stderr: r.stderr.replace(/^Option .*\n?/gm, '').trim() }).toEqual({ code: 0, stderr: '' });
    return out;
  };

  describe.each(variants)('%s', (_label, options) => {
    it.each(small)('downloads %s', async (name) => {
      await expectSame(name, await get(name, options));
    });
  });

  it('downloads a file of more than 65535 blocks with windowsize 8 (rollover inside windows)', async () => {
    await expectSame(BIG_FIXTURE.name, await get(BIG_FIXTURE.name, ['--option', 'windowsize 8']));
  }, 120_000);

  it('reports a missing file', async () => {
    const r = await run(requireClient('atftp'), ['-g', '-r', 'missing.bin', '-l', dest('missing'), '127.0.0.1', String(port)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/File not found/);
  });
});

describe('curl tftp://', () => {
  const get = async (name: string, blksize: number): Promise<string> => {
    const out = dest(name);
    const r = await run(requireClient('curl'), ['-sS', '-o', out, `tftp://127.0.0.1:${port}/${name}`, '--tftp-blksize', String(blksize)]);
    expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({ code: 0, stderr: '' });
    return out;
  };

  describe.each([8, 512, 1024, 1468, 4096, 65464])('--tftp-blksize %i', (blksize) => {
    it.each(small)('downloads %s', async (name) => {
      await expectSame(name, await get(name, blksize));
    });
  });

  it('downloads a file of more than 65535 blocks with blksize 512 (rollover)', async () => {
    await expectSame(BIG_FIXTURE.name, await get(BIG_FIXTURE.name, 512));
  }, 120_000);

  it('reports a missing file', async () => {
    const r = await run(requireClient('curl'), ['-sS', '-o', dest('missing'), `tftp://127.0.0.1:${port}/missing.bin`]);
    expect(r.code).not.toBe(0);
  });
});

describe('concurrent clients', () => {
  it('serves the three clients at once, each on its own transfer ID', async () => {
    const name = 's100000.bin';
    const outs = [dest(name), dest(name), dest(name)];
    const results = await Promise.all([
      run(requireClient('tftp'), ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', name, outs[0] as string]),
      run(requireClient('atftp'), ['--option', 'windowsize 4', '-g', '-r', name, '-l', outs[1] as string, '127.0.0.1', String(port)]),
      run(requireClient('curl'), ['-sS', '-o', outs[2] as string, `tftp://127.0.0.1:${port}/${name}`, '--tftp-blksize', '1468']),
    ]);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    for (const out of outs) await expectSame(name, out);
  });

  it('counted the transfers in the metrics', async () => {
    for (let i = 0; i < 3000 && server.activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 10)); // up to 30 s on a loaded machine
    const values = (await registry.getSingleMetric('anvil_tftp_transfers_total')?.get())?.values ?? [];
    const byResult = Object.fromEntries(values.map((v) => [v.labels.result, v.value]));
    expect(byResult.ok).toBeGreaterThan(100);
    expect(byResult.error).toBeGreaterThanOrEqual(3);
  });
});
