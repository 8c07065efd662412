// Benchmark: memory of anvil's processes as the image runs them (issue 20: the boot-server was OOM-killed at a 1 GiB
// limit while its embedded database was first created). The project is compiled as the image build compiles it
// (`tsc -b`, each package into its dist/, the embedded database's template built by its CLI into shared/dist/) and each
// process is started as the chart starts it: `node boot-server/dist/main.js`, `node operator/dist/main.js`, no flags.
//
// Boot-server with the embedded database: its first start on a new data directory, then installer events posted to
// its webhook until the history has them all, then a restart on the existing directory. Operator: N BareMetalHosts
// created at once against the real kube-apiserver, until every one is settled (boot config published).
//
// Measured: peak RSS (the kernel's VmHWM of the process, exact), RSS once settled, and where this process may create
// cgroup v1 memory cgroups, the peak charged to a cgroup of the process's own (RSS and page cache, what a pod's limit
// counts). Anchors in the same run: bare PGlite of the same version (PGlite.create on a data directory, its defaults,
// a query, the same settling time), and in full mode the boot-server as it was before this work (commit BEFORE,
// compiled the same way).
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { anvilCrds } from '@anvil/core/api';
import type { KubeObject } from '@anvil/core/kube';
import { startControlPlane } from '../test/harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds } from '../test/harness/kube.js';
import { memoryCgroupsUnavailable, publishInstall, toMiB } from '../test/harness/memory.js';
import type { BenchContext } from './context.js';
import { ROOT } from './lib/anchors.js';
import { macOf } from './lib/boot-fixture.js';
import { barePglite, compile, peakOfRun } from './lib/compiled-app.js';
import type { BenchmarkResult, Row } from './lib/results.js';
import { bootServer, operator } from './memory-runs.js';

/** The last commit before the memory work: its boot-server is the "before" column. */
const BEFORE = 'c169fbaa6b539fd919ed8afd86556634f047df7c';
const PGLITE = `bare PGlite ${(JSON.parse(readFileSync(join(ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string }).version}`;
const BEFORE_NAME = `anvil before (${BEFORE.slice(0, 7)})`;
const run = promisify(execFile);

export async function memoryBench(ctx: BenchContext): Promise<BenchmarkResult> {
  const settleMs = ctx.quick ? 5000 : 15_000;
  const hosts = Number(process.env.ANVIL_BENCH_HOSTS?.split(',')[0]) || (ctx.quick ? 50 : 1000);
  const installs = ctx.quick ? 10 : 50;
  const eventsPerInstall = ctx.quick ? 20 : 100;
  const noCgroups = memoryCgroupsUnavailable();
  const notes: string[] = [];

  const app = await compile(ctx, ROOT, join(ctx.workDir, 'app'), 'the working tree');
  ctx.log('memory: building the embedded database template (as the image build does)');
  const templateFile = app.templateFile;
  const templatePeak = await peakOfRun(process.execPath, [app.templateCli, templateFile], app.dir);
  const before = ctx.quick ? undefined : await (async () => {
    const source = join(ctx.workDir, 'before-src');
    mkdirSync(source, { recursive: true });
    await run('sh', ['-c', `git -C "$0" archive ${BEFORE} | tar -x -C "$1"`, ROOT, source]);
    return compile(ctx, source, join(ctx.workDir, 'before'), BEFORE.slice(0, 7));
  })().catch((err: unknown) => {
    notes.push(`The "before" column is empty: ${err instanceof Error ? err.message : String(err)}.`);
    return undefined;
  });

  const cp = await startControlPlane();
  const rows: Row[] = [];
  const row = (setting: string, metric: string, anvil: number | undefined, anchors: { bare?: number; before?: number } = {}): void =>
    void rows.push({ setting, metric, unit: 'MiB', better: 'lower', anvil: anvil ?? null, anchors: { [PGLITE]: anchors.bare ?? null, [BEFORE_NAME]: anchors.before ?? null } });
  const mib = (bytes: number | undefined): number | undefined => (bytes === undefined ? undefined : toMiB(bytes));
  try {
    const client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    const namespace = 'bench-memory';
    await ensureNamespace(client, namespace);
    const published = await Promise.all(Array.from({ length: installs }, (_, i) => publishInstall(client, namespace, `node-${i}`, macOf(i))));

    const after = await bootServer(ctx, cp, app, 'after', published, namespace, !noCgroups, settleMs, eventsPerInstall);
    const old = before ? await bootServer(ctx, cp, before, 'before', published, namespace, !noCgroups, settleMs, eventsPerInstall) : undefined;
    ctx.log('memory: bare PGlite, new and existing data directory');
    const bareDir = join(ctx.workDir, 'bare-pglite');
    const bareFresh = await barePglite(app, bareDir, settleMs);
    const bareExisting = await barePglite(app, bareDir, settleMs);

    const b = 'boot-server, embedded database';
    row(`${b}: new data directory`, `peak RSS, ready + ${settleMs / 1000} s`, toMiB(after.fresh.peak), { bare: toMiB(bareFresh.peak), before: mib(old?.fresh.peak) });
    row(`${b}: new data directory`, `RSS, ready + ${settleMs / 1000} s`, toMiB(after.fresh.rss), { bare: toMiB(bareFresh.rss), before: mib(old?.fresh.rss) });
    row(`${b}: ${after.traffic.events.toLocaleString('en-US')} installer events stored`, 'peak RSS since start', toMiB(after.traffic.peak), { before: mib(old?.traffic.peak) });
    row(`${b}: ${after.traffic.events.toLocaleString('en-US')} installer events stored`, `steady RSS, ${settleMs / 1000} s after`, toMiB(after.traffic.rss), { before: mib(old?.traffic.rss) });
    rows.push({ setting: `${b}: ${after.traffic.events.toLocaleString('en-US')} installer events stored`, metric: 'first post until the history has them all', unit: 's', better: 'lower', anvil: after.traffic.seconds, anchors: { [PGLITE]: null, [BEFORE_NAME]: old?.traffic.seconds ?? null } });
    row(`${b}: restart, existing data directory`, `peak RSS, ready + ${settleMs / 1000} s`, toMiB(after.restart.peak), { bare: toMiB(bareExisting.peak), before: mib(old?.restart.peak) });
    row(`${b}: restart, existing data directory`, `RSS, ready + ${settleMs / 1000} s`, toMiB(after.restart.rss), { bare: toMiB(bareExisting.rss), before: mib(old?.restart.rss) });
    if (!noCgroups) {
      row(`${b}: new data directory, then the events`, 'peak charged to its memory cgroup (RSS + page cache)', mib(after.traffic.cgroupPeak), { before: mib(old?.traffic.cgroupPeak) });
      row(`${b}: restart`, 'peak charged to its memory cgroup (RSS + page cache)', mib(after.restart.cgroupPeak), { before: mib(old?.restart.cgroupPeak) });
    }

    ctx.log(`memory: operator, ${hosts} hosts`);
    const plain = await operator(ctx, cp, client, app, 'bench-operator', hosts, 0x10000, !noCgroups, '', settleMs);
    ctx.log(`memory: operator, ${hosts} hosts, --max-semi-space-size=8`);
    const capped = await operator(ctx, cp, client, app, 'bench-operator-semi8', hosts, 0x20000, !noCgroups, '--max-semi-space-size=8', settleMs);
    for (const [label, o] of [['as the chart runs it', plain], ['NODE_OPTIONS=--max-semi-space-size=8', capped]] as const) {
      const s = `operator, ${hosts.toLocaleString('en-US')} hosts (${label})`;
      row(s, 'peak RSS, with render workers', o.peakRss);
      row(s, 'peak PSS, with render workers', o.peakPss);
      row(s, 'RSS once settled and idle', o.settledRss);
      if (o.cgroupPeak !== undefined) row(s, 'peak charged to its memory cgroup (RSS + page cache)', o.cgroupPeak);
      notes.push(`Operator (${label}): ${hosts} hosts settled ${o.seconds.toFixed(1)} s after the first was created.`);
    }
    row('image build: the embedded database template (PGlite initdb, once)', 'peak RSS', toMiB(templatePeak));
    notes.unshift(
      `Each process is compiled and started as the image and the chart do (node <package>/dist/main.js, no flags); the boot-server restarts itself with ${'`--liftoff-only --max-semi-space-size=8`'} when it uses the embedded database (boot-server/src/history-wiring.ts), and unpacks a new data directory from the image's pglite-template.tar.gz (${(statSync(templateFile).size / 1024 ** 2).toFixed(1)} MiB, built by shared/src/db/drivers/pglite-template-cli.ts) instead of running PGlite's initdb.`,
      `Peak RSS is the kernel's VmHWM of the process (the boot-server is one process); "ready + N s" leaves time for V8's background compilation, which is where a restart's peak came from. Installer events: ${installs} installs, ${eventsPerInstall} events each, posted one after the other per install, all installs at once; "stored" means the history sink has taken every one.`,
      `Operator rows: RSS and PSS summed over the operator and its render worker processes, sampled every 250 ms (RSS counts shared pages once per process, PSS shares them out).${noCgroups ? '' : ' Cgroup peaks: each process ran in a cgroup v1 memory cgroup of its own without a limit (memory.max_usage_in_bytes); page cache is charged there too, so a limit reclaims it before it kills.'}`,
      noCgroups ? `No cgroup rows: ${noCgroups}.` : `${BEFORE_NAME}: the same benchmark on the last commit before this work${before ? '' : ' (full mode only)'}.`,
      `${PGLITE}: PGlite.create({ dataDir }) with its defaults, one query, the same settling time, on a new then on the same data directory; it has no webhook, so no event rows.`,
    );
  } finally {
    await cp.stop();
  }
  return {
    name: 'memory',
    title: 'Memory of the boot-server (embedded database) and the operator',
    anchorNames: [PGLITE, BEFORE_NAME],
    rows,
    commands: [`npm run bench -- --only memory${ctx.quick ? ' --quick' : ''}   # ANVIL_BENCH_HOSTS=N for the operator's host count`],
    notes,
    load: { before: 0, after: 0 },
    seconds: 0,
  };
}
