// Benchmark: a real client (tftp-hpa from 127.0.0.1) fetches Debian's undionly.kpxe from anvil's TFTP server with no
// flood, then while another address (127.0.0.2) floods with read requests it never acknowledges (1,000 per second,
// each from its own port: the half-open sessions of issue 19). The flood goes first to a stub that refuses everything
// (what the flood alone costs this machine), then to anvil with its defaults (16 sessions per address, 256 in all),
// then to anvil with the per-address cap raised to the global cap, which is how anvil behaved before that cap (its
// half-open sessions are still reclaimed once someone is refused). No anchor: the question is what the flood does to
// anvil's own service, and tftpd-hpa would fork a process per flooded request.
import { existsSync, mkdirSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSIONS_PER_CLIENT } from '@anvil/boot-server/src/tftp/index.js';
import { freePort } from '../test/harness/control-plane.js';
import { flood, type FloodResult } from '../test/tftp/flood.js';
import type { BenchContext } from './context.js';
import { ROOT } from './lib/anchors.js';
import { exec, startServer, waitUdp, type Server } from './lib/procs.js';
import { percentile, type BenchmarkResult, type Row } from './lib/results.js';

const UNDIONLY = '/usr/lib/ipxe/undionly.kpxe';
const ROUND = 3000;
const FLOOD_SOURCE = '127.0.0.2';
/** The same flood for every setting, so their fetch times compare: 3,000 half-open requests in 3 s. */
const FLOOD_RATE = 1000;

interface Fetches {
  attempts: number;
  ms: number[];
  failures: Record<string, number>;
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * At least `count` fetches one after the other, more while `more()` says so. Timed by bash ($EPOCHREALTIME around the tftp command) so the flood running
 * in this process cannot stretch the measurement; the time includes starting the tftp process.
 */
async function fetches(port: number, count: number, outDir: string, expected: string, more: () => boolean = () => false): Promise<Fetches> {
  const result: Fetches = { attempts: 0, ms: [], failures: {} };
  const fail = (why: string): void => void (result.failures[why] = (result.failures[why] ?? 0) + 1);
  for (; result.attempts < count || more(); result.attempts++) {
    const out = join(outDir, 'undionly.kpxe');
    rmSync(out, { force: true });
    const script = 't0=$EPOCHREALTIME; tftp -m binary 127.0.0.1 "$1" -c get undionly.kpxe "$2"; t1=$EPOCHREALTIME; echo "ELAPSED ${t0/./} ${t1/./}"';
    const r = await exec('bash', ['-c', script, 'fetch', String(port), out], { timeoutMs: 120_000 });
    const elapsed = /ELAPSED (\d+) (\d+)/.exec(r.stdout);
    const output = `${r.stdout.replace(/ELAPSED .*\n?/, '')}${r.stderr}`.trim();
    if (r.code !== 0 || !elapsed) fail(`exit ${r.code}`);
    else if (output) fail(output.slice(0, 120)); // tftp-hpa exits 0 on a failed transfer and says why
    else if (!existsSync(out) || sha(out) !== expected) fail('wrong bytes');
    else result.ms.push((Number(elapsed[2]) - Number(elapsed[1])) / 1000);
  }
  return result;
}

function add(total: FloodResult, r: FloodResult): void {
  total.sent += r.sent;
  total.opened += r.opened;
  total.unanswered += r.unanswered;
  for (const [m, n] of Object.entries(r.refused)) total.refused[m] = (total.refused[m] ?? 0) + n;
}

/** Floods in rounds of 3,000 until stopped; the first 300 requests are sent before this resolves. */
async function startFlood(port: number): Promise<{ sent(): number; stop(): Promise<{ result: FloodResult; seconds: number }> }> {
  const total: FloodResult = { sent: 0, opened: 0, refused: {}, unanswered: 0 };
  const target = { host: '127.0.0.1', port, source: FLOOD_SOURCE, file: 'undionly.kpxe' };
  const t0 = performance.now();
  add(total, await flood({ ...target, requests: 300, ratePerSecond: FLOOD_RATE })); // more than the whole table: the flood holds it from here
  const controller = new AbortController();
  const loop = (async () => {
    while (!controller.signal.aborted) add(total, await flood({ ...target, requests: ROUND, firstId: total.sent, signal: controller.signal, ratePerSecond: FLOOD_RATE }));
  })();
  return {
    sent: () => total.sent,
    stop: async () => {
      controller.abort();
      await loop;
      return { result: total, seconds: (performance.now() - t0) / 1000 };
    },
  };
}

async function startAnvil(ctx: BenchContext, root: string, perClient: number, label: string): Promise<{ port: number; server: Server }> {
  const port = await freePort();
  const args = [
    ...(ctx.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', ctx.cpuProfDir] : []),
    '--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'bench', 'servers', 'anvil-tftp.ts'),
    '--port', String(port), '--root', root, '--max-sessions', String(DEFAULT_MAX_SESSIONS), '--max-sessions-per-client', String(perClient),
  ];
  const server = startServer(`anvil (${label})`, process.execPath, args, { logFile: join(ctx.workDir, `anvil-${perClient}.log`), env: { ...process.env, NODE_OPTIONS: '' } });
  await waitUdp(port, 15_000, server);
  return { port, server };
}

/** A process answering every datagram with a TFTP ERROR at once: the cheapest possible refusal. */
async function startStub(ctx: BenchContext): Promise<{ port: number; server: Server }> {
  const port = await freePort();
  const script = "const s = require('node:dgram').createSocket('udp4'); const e = Buffer.from('\\0\\5\\0\\0stub\\0', 'latin1'); s.on('message', (m, r) => s.send(e, r.port, r.address)); s.bind(Number(process.argv[1]), '127.0.0.1');";
  const server = startServer('stub responder', process.execPath, ['-e', script, String(port)], { logFile: join(ctx.workDir, 'stub.log'), env: { ...process.env, NODE_OPTIONS: '' } });
  await waitUdp(port, 15_000, server);
  return { port, server };
}

export async function tftpFlood(ctx: BenchContext): Promise<BenchmarkResult> {
  if (!existsSync(UNDIONLY)) throw new Error(`${UNDIONLY} not found: run 'bash scripts/setup.sh' (installs Debian's ipxe)`);
  const root = join(ctx.workDir, 'root');
  const outDir = join(ctx.workDir, 'out');
  mkdirSync(root, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  copyFileSync(UNDIONLY, join(root, 'undionly.kpxe'));
  const expected = sha(join(root, 'undionly.kpxe'));
  const count = ctx.quick ? 3 : 20;
  const configs = [
    { perClient: DEFAULT_MAX_SESSIONS_PER_CLIENT, label: `defaults: ${DEFAULT_MAX_SESSIONS_PER_CLIENT} per address, ${DEFAULT_MAX_SESSIONS} in all` },
    { perClient: DEFAULT_MAX_SESSIONS, label: `per-address cap raised to the global cap (${DEFAULT_MAX_SESSIONS})` },
  ];
  const rows: Row[] = [];
  const notes: string[] = [];
  const row = (setting: string, metric: string, unit: string, better: 'higher' | 'lower', anvil: number | null): void => void rows.push({ setting, metric, unit, better, anvil, anchors: {} });
  const fetchRows = (setting: string, f: Fetches): void => {
    const sorted = [...f.ms].sort((a, b) => a - b);
    row(setting, 'fetches completed', '%', 'higher', (100 * f.ms.length) / f.attempts);
    row(setting, 'fetch time p50', 'ms', 'lower', sorted.length ? percentile(sorted, 50) : null);
    row(setting, 'fetch time max', 'ms', 'lower', sorted.length ? sorted.at(-1)! : null);
    const failed = Object.entries(f.failures);
    if (failed.length) notes.push(`${setting}: ${failed.map(([why, n]) => `${n} x "${why}"`).join('; ')}`);
  };
  const commands = [`npm run bench -- --only tftp-flood${ctx.quick ? ' --quick' : ''}`];
  /** Fetches from anvil at `fetchPort` while the flood goes to `floodPort`; rows under `setting`. */
  const duringFlood = async (setting: string, fetchPort: number, floodPort: number, server: Server): Promise<void> => {
    const cpuBefore = cpuSeconds(server.pid);
    const f = await startFlood(floodPort);
    let during: Fetches;
    let flooded: { result: FloodResult; seconds: number };
    try {
      during = await fetches(fetchPort, count, outDir, expected, () => f.sent() < ROUND); // during at least 3,000 RRQs
    } finally {
      flooded = await f.stop();
    }
    const cpu = (100 * (cpuSeconds(server.pid) - cpuBefore)) / flooded.seconds;
    fetchRows(setting, during);
    row(setting, 'flood requests sent', 'RRQs', 'higher', flooded.result.sent);
    row(setting, 'flood rate', 'RRQs/s', 'higher', flooded.result.sent / flooded.seconds);
    if (floodPort !== fetchPort) {
      row(setting, 'stub CPU during the flood', '% of a core', 'lower', cpu);
      ctx.log(`tftp-flood ${setting}: ${during.ms.length}/${during.attempts} fetches, ${flooded.result.sent} flood RRQs`);
      return;
    }
    const refused = Object.values(flooded.result.refused).reduce((a, b) => a + b, 0);
    row(setting, 'flood requests that opened a session', '%', 'lower', (100 * flooded.result.opened) / flooded.result.sent);
    row(setting, 'flood requests refused', '%', 'higher', (100 * refused) / flooded.result.sent);
    row(setting, 'server CPU during the flood', '% of a core', 'lower', cpu);
    notes.push(`${setting}: the flood was answered ${Object.entries(flooded.result.refused).map(([m, n]) => `${n} x "${m}"`).join(', ') || 'with no refusal'}; ${flooded.result.opened} sessions opened, ${flooded.result.unanswered} requests unanswered.`);
    ctx.log(`tftp-flood ${setting}: ${during.ms.length}/${during.attempts} fetches, ${flooded.result.sent} flood RRQs`);
  };
  for (const [i, c] of configs.entries()) {
    const { port, server } = await startAnvil(ctx, root, c.perClient, c.label);
    commands.push(`# anvil, ${c.label}: ${server.command}`);
    try {
      await fetches(port, 1, outDir, expected); // warm-up: a boot server has served something before
      if (i === 0) {
        const quiet = await fetches(port, count, outDir, expected);
        fetchRows('no flood', quiet);
        ctx.log(`tftp-flood no flood: p50 ${percentile([...quiet.ms].sort((a, b) => a - b), 50).toFixed(1)} ms`);
        // The same flood at a stub that refuses everything: what the flood costs this machine, anvil aside.
        const stub = await startStub(ctx);
        commands.push(`# stub: ${stub.server.command}`);
        try {
          await duringFlood('flood at a stub responder (not anvil)', port, stub.port, stub.server);
        } finally {
          await stub.server.stop();
        }
      }
      await duringFlood(`flood, ${c.label}`, port, port, server);
    } finally {
      await server.stop();
    }
  }
  notes.push(
    `The client is tftp-hpa (\`tftp -m binary\`, no options: 512-byte blocks, lock-step), ${count} fetches of undionly.kpxe one after the other per setting (during the flood: more, until the flood has sent ${ROUND} requests), each timed from before the tftp process starts to its exit and checked byte for byte. The flood runs in the benchmark process at up to ${FLOOD_RATE} requests per second (64 in flight at most), each from a fresh UDP port on ${FLOOD_SOURCE}, whose socket closes after the first answer, so every session it opens stays half-open; rounds of ${ROUND} until the fetches are done (the first 300 before the first fetch).`,
    '"flood at a stub responder": the same flood sent to a separate process that answers each request with an ERROR at once, while the client fetches from anvil: the part of the slowdown that is the flood itself taking CPU on these 2 cores. anvil retransmits after 1 s (doubling up to 4 s, 5 times): a half-open session holds its slot about 19 s unless it is reclaimed. With the per-address cap raised to the global cap the flood gets every slot, as it did before the cap existed; its half-open sessions are then reclaimed at their first timeout (the flood and the real client are refused), but the flood takes each freed slot again first. Everything shares the same 2 cores (flood, server, client).',
  );
  return {
    name: 'tftp-flood',
    title: 'TFTP: a real client during a half-open session flood from another address',
    anchorNames: [],
    rows,
    commands,
    notes,
    load: { before: 0, after: 0 },
    seconds: 0,
  };
}
