// The installer load generator, in its own process: `--concurrency` installers (one keep-alive connection each, one
// host each, as many hosts as installers) post subiquity-shaped events back to back for `--seconds`. Every event is
// distinct (its timestamp; --run keeps the runs of one benchmark apart), so each one is stored. Prints one JSON line: counts, latencies, the wall-clock time
// (epoch ms) at which each accepted event was acknowledged, for the end-to-end latency to the database, and its own CPU time.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { url: { type: 'string' }, hosts: { type: 'string' }, concurrency: { type: 'string' }, seconds: { type: 'string' }, run: { type: 'string' } } });
const base = values.url!;
const hosts = JSON.parse(readFileSync(values.hosts!, 'utf8')) as Array<{ mac: string; token: string }>;
const concurrency = Number(values.concurrency);
const until = performance.now() + Number(values.seconds) * 1000;
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
// Events repeat names and types, so their timestamp makes them distinct: 100,000 s apart per run.
const firstTimestamp = 1_800_000_000 + Number(values.run ?? 0) * 100_000;
const NAMES = ['subiquity/Install/install/partitioning', 'subiquity/Install/install/extract', 'subiquity/Install/install/curthooks'];

function post(path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const latencies: number[] = [];
const ackedAt: number[] = [];
const statuses: Record<string, number> = {};
let seq = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async (_, i) => {
    const h = hosts[i % hosts.length]!;
    const path = `/webhook/${h.mac.replace(/:/g, '-')}/${h.token}`;
    while (performance.now() < until) {
      const n = seq++;
      const event = { origin: 'curtin', name: NAMES[n % NAMES.length], event_type: n % 2 ? 'finish' : 'start', ...(n % 2 ? { result: 'SUCCESS' } : {}), timestamp: firstTimestamp + n / 1000, description: 'bench' };
      const start = performance.now();
      let status: number;
      try {
        status = await post(path, JSON.stringify(event));
      } catch (err) {
        statuses[(err as Error).message] = (statuses[(err as Error).message] ?? 0) + 1;
        continue;
      }
      const end = performance.now();
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) {
        latencies.push(end - start);
        ackedAt.push(performance.timeOrigin + end);
      }
    }
  }),
);
const wallMs = performance.now() - t0;
agent.destroy();
const cpu = process.cpuUsage();
process.stdout.write(`${JSON.stringify({ accepted: latencies.length, wallMs, latencies, ackedAt, statuses, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
