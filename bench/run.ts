// `npm run bench` (full mode: the numbers) and `npm run bench -- --quick` (small sizes: checks every benchmark runs
// end to end). Options: --only NAME[,NAME] to run some, --cpu-prof to write V8 profiles of anvil's processes,
// --out FILE for the JSON. Each benchmark prints its table; all results go to bench/results/ as JSON and Markdown.
// ANVIL_BENCH_KEEP=1 keeps each benchmark's scratch directory (server logs) instead of removing it.
// Every anchor cell is checked against this machine's quiet reference (lib/anchor-references.ts): a benchmark with a
// disturbed anchor is measured once more, and what is still disturbed gets no ratio. --record-references takes the
// anchors of the benchmarks that start on a quiet machine (under a quarter of the CPU busy just before) as the references.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchContext } from './context.js';
import { loadReferences, machineBusy, markDisturbed, recordReferences, referencesPath, saveReferences, DISTURBED_BELOW, QUIET_BUSY } from './lib/anchor-references.js';
import { ROOT, anchorBins } from './lib/anchors.js';
import { processTree, stopAll } from './lib/procs.js';
import { render, type BenchmarkResult } from './lib/results.js';
import { tftpThroughput } from './tftp-throughput.js';
import { tftpStorm } from './tftp-storm.js';
import { tftpFlood } from './tftp-flood.js';
import { httpBench } from './http.js';
import { webhookBench } from './webhook.js';
import { operatorScale } from './operator-scale.js';
import { e2ePxe } from './e2e-pxe.js';
import { discoveryFlood } from './discovery-flood.js';
import { memoryBench } from './memory.js';
import { dashboardBench } from './dashboard.js';
import { cliStartup } from './cli.js';

type Bench = { name: string; run: (ctx: BenchContext) => Promise<BenchmarkResult>; fullOnly?: boolean };

const BENCHMARKS: Bench[] = [
  { name: 'tftp-throughput', run: tftpThroughput },
  { name: 'tftp-storm', run: tftpStorm },
  { name: 'tftp-flood', run: tftpFlood },
  { name: 'http', run: httpBench },
  { name: 'webhook', run: webhookBench },
  { name: 'operator-scale', run: operatorScale },
  { name: 'discovery-flood', run: discoveryFlood },
  { name: 'memory', run: memoryBench },
  { name: 'cli', run: cliStartup },
  { name: 'dashboard', run: dashboardBench },
  { name: 'e2e-pxe', run: e2ePxe, fullOnly: true },
];

export interface RunReport {
  mode: 'quick' | 'full';
  startedAt: string;
  machine: { cpus: string; cores: number; memoryGiB: number; kernel: string; node: string; anchors: string };
  benchmarks: BenchmarkResult[];
  failures: { name: string; error: string }[];
  /** The quiet references the anchors were checked against: where, and how many cells they hold. */
  references: { path: string; cells: number; recorded: number };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, only: { type: 'string' }, 'cpu-prof': { type: 'boolean' }, out: { type: 'string' }, 'record-references': { type: 'boolean' } },
  });
  const quick = !!values.quick;
  const only = values.only?.split(',').map((s) => s.trim());
  for (const name of only ?? []) if (!BENCHMARKS.some((b) => b.name === name)) throw new Error(`unknown benchmark "${name}"; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  const selected = BENCHMARKS.filter((b) => (only ? only.includes(b.name) : !(quick && b.fullOnly)));
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const cpuProfDir = values['cpu-prof'] ? join(resultsDir, 'profiles') : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });

  const bins = anchorBins();
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}, ${Math.round(totalmem() / 1024 ** 3)} GiB`;
  const refsPath = referencesPath(quick ? 'quick' : 'full');
  const refs = loadReferences(refsPath, machine, quick ? 'quick' : 'full');
  const report: RunReport = {
    mode: quick ? 'quick' : 'full',
    startedAt: new Date().toISOString(),
    machine: {
      cpus: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      kernel: release(),
      node: process.version,
      anchors: bins.versions,
    },
    benchmarks: [],
    failures: [],
    references: { path: refsPath, cells: Object.keys(refs.cells).length, recorded: 0 },
  };
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const out = values.out ?? join(resultsDir, `${report.mode}-${stamp}.json`);
  const save = (): void => {
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(resultsDir, `latest-${report.mode}.json`), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(resultsDir, `latest-${report.mode}.md`), markdown(report));
  };
  const runStart = performance.now();
  const log = (m: string): void => void process.stderr.write(`[bench +${((performance.now() - runStart) / 1000).toFixed(0)}s] ${m}\n`);
  log(`${report.mode} mode: ${selected.map((b) => b.name).join(', ')}; ${report.machine.cores} cores, free memory ${(freemem() / 1024 ** 3).toFixed(1)} GiB`);
  log(`anchors checked against ${report.references.cells} quiet reference cells of this machine (${refsPath})`);
  const measure = async (b: Bench): Promise<BenchmarkResult> => {
    const workDir = mkdtempSync(join(tmpdir(), `anvil-bench-${b.name}-`));
    const t0 = performance.now();
    const before = loadavg()[0]!;
    try {
      const result = await b.run({ quick, workDir, log, ...(cpuProfDir ? { cpuProfDir } : {}) });
      result.load = { before, after: loadavg()[0]! };
      result.seconds = (performance.now() - t0) / 1000;
      return result;
    } finally {
      await stopAll();
      if (process.env.ANVIL_BENCH_KEEP) log(`kept ${workDir} (ANVIL_BENCH_KEEP)`);
      else rmSync(workDir, { recursive: true, force: true });
    }
  };
  for (const b of selected) {
    try {
      // Our own previous benchmark's processes are gone; anything else still busy means the machine is not quiet.
      const busyBefore = values['record-references'] ? await machineBusy() : 1;
      let result = await measure(b);
      let disturbed = markDisturbed(result, refs);
      if (disturbed > 0) {
        log(`${b.name}: ${disturbed} anchor cell(s) below ${DISTURBED_BELOW * 100}% of their quiet reference (load average ${result.load.before.toFixed(2)}); measuring again`);
        result = await measure(b);
        result.attempts = 2;
        disturbed = markDisturbed(result, refs);
        if (disturbed > 0) log(`${b.name}: still ${disturbed} disturbed anchor cell(s); they get no ratio`);
      }
      if (values['record-references']) {
        const recorded = recordReferences(refs, result, busyBefore, report.startedAt);
        report.references.recorded += recorded;
        if (recorded) saveReferences(refsPath, refs);
        const busy = `${Math.round(busyBefore * 100)}% of the CPU busy before it`;
        const why = busyBefore >= QUIET_BUSY ? `${busy}; quiet is below ${QUIET_BUSY * 100}%` : 'no anchor measured a number';
        log(recorded ? `${b.name}: ${recorded} anchor cells recorded as this machine's quiet references (${busy})` : `${b.name}: no references recorded (${why})`);
      }
      report.benchmarks.push(result);
      process.stdout.write(`\n${render(result)}\n`);
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      report.failures.push({ name: b.name, error });
      log(`${b.name} FAILED: ${error}`);
    }
    save();
  }
  log(`results: ${out}`);
  if (report.failures.length) {
    log(`${report.failures.length} benchmark(s) failed: ${report.failures.map((f) => f.name).join(', ')}`);
    process.exitCode = 1;
  }
}

export function markdown(report: RunReport): string {
  const m = report.machine;
  return [
    `Run: ${report.mode} mode, ${report.startedAt}. Machine: ${m.cores} x ${m.cpus}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}.`,
    `Anchors: ${m.anchors}.`,
    ...(report.references ? [`Anchors checked against ${report.references.cells} quiet reference cells of this machine (a cell below ${DISTURBED_BELOW * 100}% of its reference is disturbed and gets no ratio).`] : []),
    '',
    ...report.benchmarks.map(render),
    ...report.failures.map((f) => `### ${f.name}: FAILED\n\n\`\`\`\n${f.error}\n\`\`\`\n`),
  ].join('\n');
}

/** `tsx --conditions=anvil-source bench/run.ts --markdown FILE.json` re-renders a saved run (for docs/benchmarks.md). */
if (process.argv[2] === '--markdown') {
  process.stdout.write(markdown(JSON.parse(readFileSync(process.argv[3]!, 'utf8')) as RunReport));
} else {
  // Servers first (process groups), then whatever else this run started (the control plane's etcd and apiserver).
  const cleanup = (): void =>
    void stopAll().then(() => {
      for (const pid of processTree(process.pid).slice(1)) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      process.exit(130);
    });
  process.on('SIGINT', cleanup);
  process.on('SIGTERM', cleanup);
  main()
    .catch((err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    })
    .finally(() => void stopAll());
}
