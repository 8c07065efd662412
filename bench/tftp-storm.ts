// Benchmark 2: a boot storm. N clients (a separate Node process, bench/clients/storm-client.ts) fetch Debian's
// undionly.kpxe and ipxe.efi at once from each server: completion rate, p50/p99 transfer time, the time until the
// last client finished, and the server's peak memory.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { ROOT, TFTP_SERVERS, startTftpServer, type TftpServerName } from './lib/anchors.js';
import { killChild, memorySampler } from './lib/procs.js';
import { percentile, type BenchmarkResult, type Row } from './lib/results.js';

const IPXE_DIR = '/usr/lib/ipxe';
const FILES = ['undionly.kpxe', 'ipxe.efi'];

interface StormOutcome {
  clients: number;
  completed: number;
  wallMs: number;
  durationsMs: number[];
  errors: Record<string, number>;
}

function runClients(port: number, clients: number, sizes: number[], timeoutMs: number): Promise<StormOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'bench', 'clients', 'storm-client.ts'), '--port', String(port), '--clients', String(clients), '--files', FILES.join(','), '--sizes', sizes.join(','), '--blksize', '1468', '--timeout-ms', '1000', '--retries', '5'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => killChild(child), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as StormOutcome);
      } catch {
        reject(new Error(`storm client exited ${code}: ${err.slice(-2000)}`));
      }
    });
  });
}

export async function tftpStorm(ctx: BenchContext): Promise<BenchmarkResult> {
  for (const f of FILES) if (!existsSync(join(IPXE_DIR, f))) throw new Error(`${IPXE_DIR}/${f} not found: run 'bash scripts/setup.sh' (installs Debian's ipxe)`);
  const root = join(ctx.workDir, 'root');
  mkdirSync(root, { recursive: true });
  for (const f of FILES) copyFileSync(join(IPXE_DIR, f), join(root, f)); // copies: tftpd-hpa serves from a chroot
  const sizes = FILES.map((f) => statSync(join(root, f)).size);
  const counts = ctx.quick ? [20] : [200, 1000];
  const rows: Row[] = [];
  const notes: string[] = [];
  const commands: string[] = [];
  const byCount = new Map<number, Map<TftpServerName, { outcome: StormOutcome; mem: { peakRssMiB: number; peakPssMiB: number; peakProcesses: number } }>>();
  for (const clients of counts) {
    const results = new Map<TftpServerName, { outcome: StormOutcome; mem: { peakRssMiB: number; peakPssMiB: number; peakProcesses: number } }>();
    byCount.set(clients, results);
    for (const name of TFTP_SERVERS) {
      // Every server is allowed as many concurrent transfers as there are clients (their defaults: anvil 256,
      // atftpd 100 threads, dnsmasq 50, tftpd-hpa unlimited), so the storm measures serving, not refusing.
      const target = await startTftpServer(name, root, ctx.workDir, { maxSessions: clients + 16, ...(ctx.cpuProfDir ? { cpuProf: ctx.cpuProfDir } : {}) });
      if (clients === counts[0]) commands.push(`# ${name}: ${target.server.command}`);
      // One fetch of each file first: a boot server has served something before the storm (and Node's JIT is warm).
      await runClients(target.port, FILES.length, sizes, 60_000);
      const sampler = memorySampler(target.server.pid);
      try {
        const outcome = await runClients(target.port, clients, sizes, 300_000);
        results.set(name, { outcome, mem: sampler.stop() });
        const errs = Object.entries(outcome.errors);
        if (errs.length) notes.push(`${name}, ${clients} clients: ${errs.map(([e, n]) => `${n} x "${e}"`).join('; ')}`);
        ctx.log(`tftp-storm ${clients} clients, ${name}: ${outcome.completed}/${clients} in ${(outcome.wallMs / 1000).toFixed(1)} s`);
      } finally {
        sampler.stop();
        await target.server.stop();
      }
    }
    type Result = { outcome: StormOutcome; mem: { peakRssMiB: number; peakPssMiB: number } };
    // Times and memory of a server that did not serve every client describe a smaller storm: not comparable (n/a).
    const full = (r: Result): boolean => r.outcome.completed === r.outcome.clients;
    const value = (r: Result, f: (r: Result) => number | null, always: boolean): number | null => (always || full(r) ? f(r) : null);
    const metric = (m: string, unit: string, better: 'higher' | 'lower', f: (r: Result) => number | null, always = false): void =>
      void rows.push({
        setting: `${clients} clients`,
        metric: m,
        unit,
        better,
        anvil: value(results.get('anvil')!, f, always),
        anchors: Object.fromEntries(TFTP_SERVERS.filter((n) => n !== 'anvil').map((n) => [n, value(results.get(n)!, f, always)])),
      });
    for (const [name, r] of results) if (!full(r)) notes.push(`${name}, ${clients} clients: served ${r.outcome.completed} of ${r.outcome.clients}; its times and memory are left out (n/a).`);
    const sorted = (o: StormOutcome): number[] => [...o.durationsMs].sort((a, b) => a - b);
    metric('completed', '%', 'higher', (r) => (100 * r.outcome.completed) / r.outcome.clients, true);
    metric('p50 transfer time', 'ms', 'lower', (r) => (r.outcome.completed ? percentile(sorted(r.outcome), 50) : null));
    metric('p99 transfer time', 'ms', 'lower', (r) => (r.outcome.completed ? percentile(sorted(r.outcome), 99) : null));
    metric('whole storm', 's', 'lower', (r) => r.outcome.wallMs / 1000);
    metric('peak server memory (RSS)', 'MiB', 'lower', (r) => r.mem.peakRssMiB);
    metric('peak server memory (PSS)', 'MiB', 'lower', (r) => r.mem.peakPssMiB);
  }
  notes.push(
    `Half of the clients fetch undionly.kpxe (${sizes[0]} bytes), half ipxe.efi (${sizes[1]} bytes), all from Debian's ipxe package, with blksize 1468 and tsize, lock-step, retransmitting after 1 s up to 5 times (as a PXE ROM does). All clients run in one Node process (bench/clients/storm-client.ts) on the same 2 cores as the server.`,
    'Server memory is sampled every 100 ms over the server\'s process tree: tftpd-hpa forks a process per transfer, so its summed RSS counts shared pages once per process; PSS shares them out fairly. atftpd runs a thread per transfer.',
  );
  return {
    name: 'tftp-storm',
    title: '2. TFTP boot storm (iPXE binaries)',
    anchorNames: TFTP_SERVERS.filter((n) => n !== 'anvil'),
    rows,
    commands: [
      `npm run bench -- --only tftp-storm${ctx.quick ? ' --quick' : ''}`,
      ...commands,
      `# clients: node --conditions=anvil-source --import tsx bench/clients/storm-client.ts --port PORT --clients ${counts.at(-1)} --files ${FILES.join(',')} --sizes ${sizes.join(',')} --blksize 1468 --timeout-ms 1000 --retries 5`,
    ],
    notes,
    load: { before: 0, after: 0 },
    seconds: 0,
  };
}
