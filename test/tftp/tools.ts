// Helpers for the TFTP interop tests: locating the real client binaries (installed by scripts/setup.sh, never by a
// test), running them, fixtures and checksums.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** Absolute path of a client binary; throws (so the test FAILS, not skips) when it is missing. */
export function requireClient(name: 'tftp' | 'atftp' | 'curl'): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  const pkg = name === 'tftp' ? 'tftp-hpa' : name;
  throw new Error(`the TFTP client "${name}" (Debian package ${pkg}) is not installed: run scripts/setup.sh`);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with a generous kill timeout (a safety net against hangs, not a timing assertion). */
export function run(cmd: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      // err.code is the exit status when the process ran, a string (ENOENT...) when it did not start; null if killed.
      const raw = (err as { code?: unknown } | null)?.code;
      resolve({ code: err ? (typeof raw === 'number' ? raw : null) : 0, stdout, stderr });
    });
  });
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** Writes `size` pseudo-random bytes (every block differs, so misordered blocks are caught) in 1 MiB chunks. */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let written = 0; written < size; ) {
      const chunk = randomBytes(Math.min(1024 * 1024, size - written));
      await fh.write(chunk, 0, chunk.length, written);
      written += chunk.length;
    }
  } finally {
    await fh.close();
  }
}

/** Files whose sizes hit the edges: empty, one short block, exactly one block, exact multiples of common blksizes. */
export const SMALL_FIXTURES: Record<string, number> = {
  'empty.bin': 0,
  's511.bin': 511,
  's512.bin': 512,
  's2048.bin': 4 * 512,
  's4404.bin': 3 * 1468,
  's5120.bin': 5 * 1024,
  's100000.bin': 100_000,
};

/** Above 65535 blocks of 512 bytes: block numbers roll over (67585 blocks). */
export const BIG_FIXTURE = { name: 'big.bin', size: 33 * 1024 * 1024 + 100 };

export async function writeFixtures(root: string, withBig: boolean): Promise<Record<string, string>> {
  const sums: Record<string, string> = {};
  for (const [name, size] of Object.entries(SMALL_FIXTURES)) {
    await writeRandomFile(join(root, name), size);
    sums[name] = await sha256File(join(root, name));
  }
  await writeFile(join(root, 'text.txt'), 'line one\nline two\n#!ipxe\n');
  sums['text.txt'] = await sha256File(join(root, 'text.txt'));
  if (withBig) {
    await writeRandomFile(join(root, BIG_FIXTURE.name), BIG_FIXTURE.size);
    sums[BIG_FIXTURE.name] = await sha256File(join(root, BIG_FIXTURE.name));
  }
  return sums;
}

/** Deterministic PRNG (mulberry32) for reproducible loss patterns and fuzz inputs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
