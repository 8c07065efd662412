// Benchmark: memory of anvil's processes as the image runs them (issue 20: the boot-server was OOM-killed at a 1 GiB
// limit while its embedded database was first created). The project is compiled as the image build compiles it
// (tsc into dist/, the embedded database's template built by its CLI into dist/) and each process is started as the
// chart starts it: `node dist/boot-server/src/main.js`, `node dist/operator/src/main.js`, no flags.
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
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { anvilCrds } from '../shared/src/api/index.js';
import type { KubeClient, KubeObject } from '../shared/src/kube/index.js';
import { freePort, startControlPlane, type ControlPlane } from '../test/harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../test/harness/kube.js';
import { createMemoryCgroup, memoryCgroupsUnavailable, processMemory, publishInstall, toMiB, type MemoryCgroup, type PublishedInstall } from '../test/harness/memory.js';
import type { BenchContext } from './context.js';
import { ROOT } from './lib/anchors.js';
import { createAll, macOf } from './lib/boot-fixture.js';
import { HostType, counterSum, createTemplate, hostObject } from './lib/operator.js';
import { memorySampler, startServer, treeMemory, type Server } from './lib/procs.js';
import type { BenchmarkResult, Row } from './lib/results.js';

/** The last commit before the memory work: its boot-server is the "before" column. */
const BEFORE = 'c169fbaa6b539fd919ed8afd86556634f047df7c';
const PGLITE = `bare PGlite ${(JSON.parse(readFileSync(join(ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string }).version}`;
const BEFORE_NAME = `anvil before (${BEFORE.slice(0, 7)})`;
const run = promisify(execFile);

interface App {
  /** The directory holding package.json, node_modules (a link) and dist/, as /app in the image. */
  dir: string;
  entry(what: 'boot-server' | 'operator'): string;
}

/** Compiles a source tree as the image build does, into `dir`/dist, with the repository's node_modules linked in. */
async function compile(ctx: BenchContext, source: string, dir: string): Promise<App> {
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(source, 'package.json'), join(dir, 'package.json'));
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  if (source !== ROOT && !existsSync(join(source, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'));
  ctx.log(`memory: compiling ${source === ROOT ? 'the working tree' : BEFORE.slice(0, 7)} (tsc)`);
  // Type errors elsewhere in a tree being edited do not stop tsc from emitting, and do not matter here.
  await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(source, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { cwd: source, maxBuffer: 64 * 1024 * 1024 }).catch(() => undefined);
  const app: App = { dir, entry: (what) => join(dir, 'dist', what, 'src', 'main.js') };
  if (!existsSync(app.entry('boot-server'))) throw new Error(`tsc produced no ${app.entry('boot-server')}`);
  return app;
}

/** Runs a process to its end and returns its peak RSS, polled (VmHWM only grows: the last reading is the peak). */
async function peakOfRun(cmd: string, args: string[], cwd: string): Promise<number> {
  const child = execFile(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let peak = 0;
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    peak = Math.max(peak, processMemory(child.pid!)?.peak ?? 0);
    await sleep(100);
  }
  if ((await exited) !== 0) throw new Error(`${args.join(' ')} failed`);
  return peak;
}

interface Started {
  server: Server;
  cgroup?: MemoryCgroup;
  url: string;
}

/** Starts `node <args>` (in a cgroup of its own when possible) and waits for `probe` to answer. */
async function startNode(name: string, args: string[], options: { workDir: string; cwd: string; env?: Record<string, string>; probe: string; port: number; cgroups: boolean }): Promise<Started> {
  const cgroup = options.cgroups ? createMemoryCgroup(name) : undefined;
  const [cmd, ...prefix] = cgroup ? ['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup.dir, process.execPath] : [process.execPath];
  const server = startServer(name, cmd!, [...prefix, ...args], {
    logFile: join(options.workDir, `${name}.log`),
    cwd: options.cwd,
    env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'info', ...options.env },
  });
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitFor(`${name} answering ${options.probe}`, async () => {
      if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`${name} exited (${server.child.signalCode ?? server.child.exitCode}):\n${server.logs().slice(-3000)}`);
      return (await fetch(`${url}${options.probe}`).catch(() => undefined))?.ok;
    }, 300_000, 200);
  } catch (err) {
    await server.stop();
    await cgroup?.remove();
    throw err;
  }
  return { server, url, ...(cgroup ? { cgroup } : {}) };
}

async function stopNode(s: Started): Promise<number | undefined> {
  await s.server.stop();
  const peak = s.cgroup?.maxUsage();
  await s.cgroup?.remove();
  return peak;
}

interface BootServerOutcome {
  fresh: { peak: number; rss: number; cgroupPeak?: number };
  traffic: { peak: number; rss: number; events: number; seconds: number; cgroupPeak?: number };
  restart: { peak: number; rss: number; cgroupPeak?: number };
}

/** The boot-server of `app` on a new data directory, under installer traffic, then restarted on the same directory. */
async function bootServer(ctx: BenchContext, cp: ControlPlane, app: App, label: string, installs: PublishedInstall[], namespace: string, cgroups: boolean, settleMs: number, eventsPerInstall: number): Promise<BootServerOutcome> {
  const dir = join(ctx.workDir, `boot-${label}`);
  const port = await freePort();
  const args = [
    app.entry('boot-server'),
    '--kubeconfig', cp.kubeconfigPath, '--namespace', namespace,
    '--http-host', '127.0.0.1', '--http-port', String(port), '--tftp-port', '0',
    '--asset-dir', join(dir, 'assets'), '--spool-dir', join(dir, 'spool'), '--data-dir', join(dir, 'history'),
  ];
  // The image's own template where it has one (dist/pglite-template.tar.gz); never one from the environment.
  const options = { workDir: ctx.workDir, cwd: app.dir, port, probe: '/readyz', cgroups, env: { ANVIL_PGLITE_TEMPLATE: '', RATE_LIMIT_PER_SECOND: '0' } };
  const memory = (s: Started): { peak: number; rss: number } => {
    const m = processMemory(s.server.pid);
    if (!m) throw new Error(`${label}: the boot-server is gone:\n${s.server.logs().slice(-3000)}`);
    return m;
  };

  ctx.log(`memory: ${label} boot-server, new data directory`);
  const first = await startNode(`boot-server-${label}`, args, options);
  let fresh: BootServerOutcome['fresh'];
  let traffic: BootServerOutcome['traffic'];
  try {
    await sleep(settleMs);
    fresh = { ...memory(first), ...(first.cgroup ? { cgroupPeak: first.cgroup.maxUsage() } : {}) };
    ctx.log(`memory: ${label} boot-server, ${installs.length * eventsPerInstall} installer events`);
    const t0 = performance.now();
    await Promise.all(installs.map(async (install, i) => {
      for (let n = 0; n < eventsPerInstall; n++) {
        const res = await fetch(`${first.url}${install.webhookPath}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ origin: 'curtin', name: `cmd-install/stage-${n % 7}/step-${n}`, event_type: n % 2 ? 'finish' : 'start', ...(n % 2 ? { result: 'SUCCESS' } : {}), timestamp: 1_700_000_000 + i + n / 1000, description: 'memory benchmark' }),
        });
        if (res.status !== 200) throw new Error(`${label}: event answered ${res.status}: ${await res.text()}`);
      }
    }));
    const events = installs.length * eventsPerInstall;
    await waitFor(`${label}: every event in the history`, async () => {
      const text = await (await fetch(`${first.url}/metrics`)).text();
      return counterSum(text, 'anvil_sink_records_total', { sink: 'history' }) >= events && counterSum(text, 'anvil_spool_sink_backlog_bytes', { sink: 'history' }) === 0;
    }, 600_000, 200);
    const seconds = (performance.now() - t0) / 1000;
    await sleep(settleMs);
    traffic = { ...memory(first), events, seconds, ...(first.cgroup ? { cgroupPeak: first.cgroup.maxUsage() } : {}) };
  } finally {
    await stopNode(first);
  }

  ctx.log(`memory: ${label} boot-server, restarted on its data directory`);
  const second = await startNode(`boot-server-${label}-restart`, args, options);
  let restart: BootServerOutcome['restart'];
  try {
    await sleep(settleMs);
    restart = { ...memory(second), ...(second.cgroup ? { cgroupPeak: second.cgroup.maxUsage() } : {}) };
  } finally {
    await stopNode(second);
  }
  return { fresh, traffic, restart };
}

const BARE_PGLITE = `// PGlite as its README opens it: a data directory, defaults; one query; then the same settling time as anvil's.
import { PGlite } from '@electric-sql/pglite';
import { readFileSync } from 'node:fs';
const db = await PGlite.create({ dataDir: process.argv[2] });
await db.query('SELECT count(*) FROM pg_class');
await new Promise((r) => setTimeout(r, Number(process.argv[3])));
const status = readFileSync('/proc/self/status', 'utf8');
const kib = (f) => Number(new RegExp('^' + f + ':\\\\s+(\\\\d+)', 'm').exec(status)[1]) * 1024;
process.stdout.write(JSON.stringify({ peak: kib('VmHWM'), rss: kib('VmRSS') }));
await db.close();
`;

async function barePglite(app: App, dataDir: string, settleMs: number): Promise<{ peak: number; rss: number }> {
  const script = join(app.dir, 'bare-pglite.mjs');
  if (!existsSync(script)) writeFileSync(script, BARE_PGLITE);
  const { stdout } = await run(process.execPath, [script, dataDir, String(settleMs)], { cwd: app.dir, env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as { peak: number; rss: number };
}

const settledHost = (h: KubeObject & { status?: { state?: string; conditions?: Array<{ type: string; status: string }> } }): boolean =>
  h.status?.state === 'Provisioning' && !!h.status.conditions?.some((c) => c.type === 'BootConfigReady' && c.status === 'True');

interface OperatorOutcome {
  peakRss: number;
  peakPss: number;
  settledRss: number;
  settledPss: number;
  cgroupPeak?: number;
  seconds: number;
}

/** The operator of `app` with `hosts` BareMetalHosts created at once in a namespace of its own, until all are settled. */
async function operator(ctx: BenchContext, cp: ControlPlane, client: KubeClient, app: App, namespace: string, hosts: number, macBase: number, cgroups: boolean, nodeOptions: string, settleMs: number): Promise<OperatorOutcome> {
  await ensureNamespace(client, namespace);
  const port = await freePort();
  const started = await startNode(`operator-${namespace}`, [
    app.entry('operator'),
    '--kubeconfig', cp.kubeconfigPath, '--namespace', namespace, '--leader-elect', 'false',
    '--metrics-host', '127.0.0.1', '--metrics-port', String(port), '--boot-server-url', 'http://10.0.0.2:8080',
  ], { workDir: ctx.workDir, cwd: app.dir, port, probe: '/readyz', cgroups, env: { NODE_OPTIONS: nodeOptions } });
  try {
    await createTemplate(client, namespace);
    const sampler = memorySampler(started.server.pid, 250);
    const t0 = performance.now();
    await createAll(hosts, 16, (i) => client.create(HostType, hostObject(namespace, `node-${String(i).padStart(5, '0')}`, macOf(macBase + i))));
    await waitFor(`${hosts} hosts settled in ${namespace}`, async () => {
      const list = await client.list<KubeObject & { status?: { state?: string } }>(HostType, { namespace });
      return list.items.filter(settledHost).length === hosts;
    }, 1_800_000, 2000);
    const seconds = (performance.now() - t0) / 1000;
    await waitFor('the operator idle', async () => counterSum(await (await fetch(`${started.url}/metrics`)).text(), 'workqueue_depth') === 0, 600_000, 500);
    await sleep(settleMs);
    const peak = sampler.stop();
    const settled = treeMemory(started.server.pid);
    return {
      peakRss: peak.peakRssMiB,
      peakPss: peak.peakPssMiB,
      settledRss: settled.rssKiB / 1024,
      settledPss: settled.pssKiB / 1024,
      seconds,
      ...(started.cgroup ? { cgroupPeak: toMiB(started.cgroup.maxUsage()) } : {}),
    };
  } finally {
    await stopNode(started);
  }
}

export async function memoryBench(ctx: BenchContext): Promise<BenchmarkResult> {
  const settleMs = ctx.quick ? 5000 : 15_000;
  const hosts = Number(process.env.ANVIL_BENCH_HOSTS?.split(',')[0]) || (ctx.quick ? 50 : 1000);
  const installs = ctx.quick ? 10 : 50;
  const eventsPerInstall = ctx.quick ? 20 : 100;
  const noCgroups = memoryCgroupsUnavailable();
  const notes: string[] = [];

  const app = await compile(ctx, ROOT, join(ctx.workDir, 'app'));
  ctx.log('memory: building the embedded database template (as the image build does)');
  const templateFile = join(app.dir, 'dist', 'pglite-template.tar.gz');
  const templatePeak = await peakOfRun(process.execPath, [join(app.dir, 'dist', 'shared', 'src', 'db', 'drivers', 'pglite-template-cli.js'), templateFile], app.dir);
  const before = ctx.quick ? undefined : await (async () => {
    const source = join(ctx.workDir, 'before-src');
    mkdirSync(source, { recursive: true });
    await run('sh', ['-c', `git -C "$0" archive ${BEFORE} | tar -x -C "$1"`, ROOT, source]);
    return compile(ctx, source, join(ctx.workDir, 'before'));
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
      `Each process is compiled and started as the image and the chart do (node dist/.../main.js, no flags); the boot-server restarts itself with ${'`--liftoff-only --max-semi-space-size=8`'} when it uses the embedded database (boot-server/src/history-wiring.ts), and unpacks a new data directory from dist/pglite-template.tar.gz (${(statSync(templateFile).size / 1024 ** 2).toFixed(1)} MiB, built by shared/src/db/drivers/pglite-template-cli.ts) instead of running PGlite's initdb.`,
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
