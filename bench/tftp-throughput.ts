// Benchmark 1: TFTP throughput of one client on loopback, anvil vs tftpd-hpa vs atftpd vs dnsmasq, with the same
// client (atftp, the one Debian client that speaks windowsize) for every server and setting.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeRandomFile } from '../test/tftp/tools.js';
import type { BenchContext } from './context.js';
import { TFTP_SERVERS, startTftpServer, type TftpTarget } from './lib/anchors.js';
import { exec } from './lib/procs.js';
import { median, type BenchmarkResult, type Row } from './lib/results.js';

const MiB = 1024 * 1024;

export async function tftpThroughput(ctx: BenchContext): Promise<BenchmarkResult> {
  const sizes = ctx.quick ? [256 * 1024] : [1 * MiB, 64 * MiB];
  const blksizes = ctx.quick ? [1468] : [512, 1468];
  const windowsizes = ctx.quick ? [1, 16] : [1, 8, 16];
  const reps = ctx.quick ? 1 : 3;
  const root = join(ctx.workDir, 'root');
  // The client writes to memory, so the disk is not what is measured.
  const outDir = join('/dev/shm', `anvil-bench-${process.pid}`);
  mkdirSync(root, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  for (const size of sizes) await writeRandomFile(join(root, `f${size}.bin`), size);

  const targets: TftpTarget[] = [];
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    for (const name of TFTP_SERVERS) targets.push(await startTftpServer(name, root, ctx.workDir, { maxSessions: 64, ...(ctx.cpuProfDir ? { cpuProf: ctx.cpuProfDir } : {}) }));
    for (const size of sizes) {
      for (const blksize of blksizes) {
        for (const windowsize of windowsizes) {
          const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
          const failed = new Map<string, string>();
          for (let rep = 0; rep < reps; rep++) {
            for (const t of targets) {
              if (failed.has(t.name)) continue;
              const out = join(outDir, `${t.name}.bin`);
              rmSync(out, { force: true });
              const args = ['--get', '-r', `f${size}.bin`, '-l', out, '--option', `blksize ${blksize}`, ...(windowsize > 1 ? ['--option', `windowsize ${windowsize}`] : []), '127.0.0.1', String(t.port)];
              const r = await exec('atftp', args, { timeoutMs: 180_000 });
              let got = -1;
              try {
                got = statSync(out).size;
              } catch {
                // missing: failed
              }
              if (r.code !== 0 || got !== size) {
                failed.set(t.name, `exit ${r.code}, ${got} of ${size} bytes: ${(r.stdout + r.stderr).trim().slice(0, 200)}`);
                continue;
              }
              samples.get(t.name)!.push(size / 1e6 / (r.ms / 1000));
            }
          }
          const value = (name: string): number | null => (failed.has(name) ? null : median(samples.get(name)!));
          rows.push({
            setting: `${size >= MiB ? `${size / MiB} MiB` : `${size / 1024} KiB`}, blksize ${blksize}, windowsize ${windowsize}`,
            metric: 'throughput',
            unit: 'MB/s',
            better: 'higher',
            anvil: value('anvil'),
            anchors: Object.fromEntries(targets.filter((t) => t.name !== 'anvil').map((t) => [t.name, value(t.name)])),
          });
          for (const [name, why] of failed) notes.push(`${name} failed at ${rows.at(-1)!.setting}: ${why}`);
          ctx.log(`tftp-throughput ${rows.at(-1)!.setting}: ${targets.map((t) => `${t.name} ${value(t.name)?.toFixed(1) ?? 'failed'}`).join(', ')}`);
        }
      }
    }
  } finally {
    await Promise.all(targets.map((t) => t.server.stop()));
    rmSync(outDir, { recursive: true, force: true });
  }
  notes.push(
    `Median of ${reps} download(s) per cell, timed around the whole atftp process (includes its start, which matters for the small file). MB = 10^6 bytes.`,
    'tftpd-hpa 5.2 and dnsmasq do not implement windowsize (RFC 7440): they ignore the option and run lock-step, so their windowsize 8/16 cells equal their windowsize 1 cells within noise.',
  );
  return {
    name: 'tftp-throughput',
    title: '1. TFTP throughput, one client, loopback',
    anchorNames: TFTP_SERVERS.filter((n) => n !== 'anvil'),
    rows,
    commands: [
      `npm run bench -- --only tftp-throughput${ctx.quick ? ' --quick' : ''}`,
      ...targets.map((t) => `# ${t.name}: ${t.server.command}`),
      '# client: atftp --get -r f67108864.bin -l /dev/shm/out.bin --option "blksize 1468" --option "windowsize 16" 127.0.0.1 PORT',
    ],
    notes,
    load: { before: 0, after: 0 },
    seconds: 0,
  };
}
