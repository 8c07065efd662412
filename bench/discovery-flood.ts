// Benchmark: how much the install history (PostgreSQL) grows under boot requests anyone on the boot network can make,
// `GET /ipxe/<MAC>` with invented MACs (issue 19: 5,000 of them used to add 19 MB). The real boot-server process
// (against a real kube-apiserver) ships into a real PostgreSQL; each setting starts a fresh boot-server (a fresh
// discovery budget and rate limiter) and measures pg_total_relation_size of the history tables before and after, once
// every answered request is shipped. For comparison, the same number of requests of a known host, whose boot requests
// are its history (one row each): what every unknown request cost before. No anchor: no other PXE stack keeps a
// history to compare with.
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_DISCOVERY_BUDGET } from '@anvil/boot-server/src/history/discovery-budget.js';
import { waitFor } from '../test/harness/kube.js';
import { startPostgres, type RunningPostgres } from '../test/harness/postgres.js';
import { startBootServer, type RunningProcess } from '../test/harness/processes.js';
import type { BenchContext } from './context.js';
import { NAMESPACE, startBootFixture, type BootFixture } from './lib/boot-fixture.js';
import type { BenchmarkResult, Row } from './lib/results.js';

const TABLES = ['boot_requests', 'discovered_machines', 'installations', 'installer_events'] as const;
const PARALLEL = 32;

interface Request {
  path: string;
  from: string;
}

interface Outcome {
  requests: number;
  served: number;
  limited: number;
  bytes: number;
  bootRequestRows: number;
  discoveredRows: number;
  seconds: number;
}

const dashed = (mac: string) => mac.replace(/:/g, '-');
const randomMac = () => `52:54:${[...randomBytes(4)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;

function get(url: string, localAddress: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

export async function discoveryFlood(ctx: BenchContext): Promise<BenchmarkResult> {
  const n = ctx.quick ? 1000 : 5000;
  let postgres: RunningPostgres | undefined;
  let fx: BootFixture | undefined;
  let pool: pg.Pool | undefined;
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    postgres = await startPostgres();
    const databaseUrl = await postgres.createDatabase('anvil_bench_discovery');
    fx = await startBootFixture({ hosts: 1, assetBytes: 4096, workDir: ctx.workDir, databaseUrl });
    await fx.boot.kill();
    pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    const db = pool;
    const knownMac = fx.hosts[0]!.mac;
    const kubeconfig = fx.cp.kubeconfigPath;
    const size = async (): Promise<number> => {
      const r = await db.query<{ b: string }>(`SELECT ${TABLES.map((t) => `pg_total_relation_size('${t}')`).join(' + ')} AS b`);
      return Number(r.rows[0]!.b);
    };
    const count = async (table: string): Promise<number> => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

    let run = 0;
    const measure = async (label: string, requests: Request[], rateLimited: boolean): Promise<Outcome> => {
      const dir = join(ctx.workDir, `boot-${++run}`);
      mkdirSync(dir, { recursive: true });
      const boot: RunningProcess = await startBootServer({
        kubeconfig,
        dir,
        // Production log level; the load comes from loopback addresses, the per-address limit only where wanted.
        env: { LOG_LEVEL: 'info', ...(rateLimited ? {} : { RATE_LIMIT_PER_SECOND: '0' }) },
        extraArgs: ['--namespace', NAMESPACE, '--database-url', databaseUrl],
      });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      try {
        await waitFor('the boot config of the known host loaded', async () => (await fetch(`${boot.url}/readyz`)).ok, 60_000, 200);
        const metric = async (name: string, labels = ''): Promise<number> => {
          const text = await (await fetch(`${boot.url}/metrics`)).text();
          const line = text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels));
          return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
        };
        const before = { bytes: await size(), boots: await count('boot_requests'), discovered: await count('discovered_machines') };
        const t0 = performance.now();
        const statuses: number[] = [];
        let next = 0;
        await Promise.all(
          Array.from({ length: PARALLEL }, async () => {
            while (next < requests.length) {
              const r = requests[next++]!;
              statuses.push(await get(`${boot.url}${r.path}`, r.from, agent));
            }
          }),
        );
        const seconds = (performance.now() - t0) / 1000;
        const served = statuses.filter((s) => s === 200).length;
        const limited = statuses.filter((s) => s === 429).length;
        if (served + limited !== requests.length) throw new Error(`${label}: unexpected answers ${JSON.stringify(statuses.filter((s) => s !== 200 && s !== 429).slice(0, 5))}`);
        await waitFor(`${label}: every answered request shipped`, async () => (await metric('anvil_sink_records_total', 'sink="history"')) >= served && (await metric('anvil_spool_backlog_bytes')) === 0, 300_000, 250);
        const outcome = {
          requests: requests.length,
          served,
          limited,
          bytes: (await size()) - before.bytes,
          bootRequestRows: (await count('boot_requests')) - before.boots,
          discoveredRows: (await count('discovered_machines')) - before.discovered,
          seconds,
        };
        ctx.log(`discovery-flood ${label}: ${JSON.stringify(outcome)}`);
        return outcome;
      } finally {
        agent.destroy();
        await boot.kill();
      }
    };

    const settings: [label: string, requests: Request[], rateLimited: boolean][] = [
      // From 250 addresses: requests identical to the millisecond are one row (their id is derived from their fields).
      [`${n} requests of a known host from 250 addresses (its history: one row each)`, Array.from({ length: n }, (_, i) => ({ path: `/ipxe/${dashed(knownMac)}?arch=x86_64&platform=efi`, from: `127.0.4.${1 + (i % 250)}` })), false],
      [`${n} requests of 5 unknown machines, one address each, no rate limit`, Array.from({ length: n }, (_, i) => ({ path: `/ipxe/${dashed(`52:54:00:ee:00:0${i % 5}`)}?arch=x86_64&platform=efi`, from: `127.0.1.${1 + (i % 5)}` })), false],
      [`${n} invented MACs from one address, default rate limit (50/s, burst 500)`, Array.from({ length: n }, () => ({ path: `/ipxe/${dashed(randomMac())}`, from: '127.0.2.1' })), true],
      [`${n} invented MACs from 250 addresses, no rate limit`, Array.from({ length: n }, (_, i) => ({ path: `/ipxe/${dashed(randomMac())}`, from: `127.0.3.${1 + (i % 250)}` })), false],
    ];
    for (const [label, requests, rateLimited] of settings) {
      const o = await measure(label, requests, rateLimited);
      rows.push(
        { setting: label, metric: 'history growth per request', unit: 'bytes', better: 'lower', anvil: o.bytes / o.requests, anchors: {} },
        { setting: label, metric: 'history growth', unit: 'KiB', better: 'lower', anvil: o.bytes / 1024, anchors: {} },
        { setting: label, metric: 'boot_requests rows added', unit: 'rows', better: 'lower', anvil: o.bootRequestRows, anchors: {} },
        { setting: label, metric: 'discovered_machines rows added', unit: 'rows', better: 'lower', anvil: o.discoveredRows, anchors: {} },
        { setting: label, metric: 'answered 429', unit: 'requests', better: 'higher', anvil: o.limited, anchors: {} },
      );
    }
    notes.push(
      `Sizes are pg_total_relation_size (heap, indexes, TOAST) of ${TABLES.join(', ')}, summed, before and after; PostgreSQL grows in 8 KiB pages, so a few rows show as 0 or 8 KiB.`,
      `Discovery budget (boot-server/src/history/discovery-budget.ts): ${DEFAULT_DISCOVERY_BUDGET.perSource} distinct unknown MACs per source address and ${DEFAULT_DISCOVERY_BUDGET.total} in all per ${DEFAULT_DISCOVERY_BUDGET.windowMs / 3_600_000} h; further sightings of new MACs are dropped, sightings of admitted ones update their row in place.`,
      `Requests from loopback addresses (127.0.x.y), ${PARALLEL} in flight, keep-alive; each setting on a fresh boot-server process shipping to the same PostgreSQL (SERIALIZABLE, fsync off).`,
    );
  } finally {
    await pool?.end();
    await fx?.stop();
    await postgres?.stop();
  }
  return {
    name: 'discovery-flood',
    title: 'Discovery flood: history growth under boot requests of unknown MACs',
    anchorNames: [],
    rows,
    commands: [`npm run bench -- --only discovery-flood${ctx.quick ? ' --quick' : ''}`],
    notes,
    load: { before: 0, after: 0 },
    seconds: 0,
  };
}
