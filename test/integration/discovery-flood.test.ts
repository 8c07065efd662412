// Unknown machines are recorded once, in real PostgreSQL: the boot-server's history sink ships 5,000 boot requests of
// MACs without a host (a few MACs seen often; invented MACs from one address; invented MACs from many addresses) and
// the history grows by one discovered_machines row per MAC admitted by the discovery budget, never a boot_requests row.
import { jest } from '@jest/globals';
import pg from 'pg';
import { openHistoryStore } from '@anvil/core/db';
import type { SqlHistoryStore } from '@anvil/core/db';
import { silentLogger } from '@anvil/core/logging';
import { DEFAULT_DISCOVERY_BUDGET, DiscoveryBudget } from '@anvil/boot-server/src/history/discovery-budget.js';
import { HistorySink } from '@anvil/boot-server/src/history/history-sink.js';
import type { BootRequestRecord } from '@anvil/boot-server/src/spool/records.js';
import { startPostgres, type RunningPostgres } from '../harness/postgres.js';

jest.setTimeout(180_000);

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const mac = (i: number) => `52:54:00:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
const boot = (i: number, m: string, clientIP: string, over: Partial<BootRequestRecord> = {}): BootRequestRecord => ({
  kind: 'boot-request',
  time: new Date(T0 + i).toISOString(),
  mac: m,
  clientIP,
  path: `/ipxe/${m.replace(/:/g, '-')}`,
  served: 'Rejected',
  facts: { arch: 'x86_64', platform: 'efi' },
  ...over,
});

describe('a flood of unknown MACs through the history sink into PostgreSQL', () => {
  let server: RunningPostgres;
  let store: SqlHistoryStore;
  let pool: pg.Pool;
  let sink: HistorySink;

  const rows = async (table: string, where = 'TRUE', params: unknown[] = []) => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params)).rows[0]!.n;
  const bytes = async (table: string) => Number((await pool.query<{ b: string }>('SELECT pg_total_relation_size($1::regclass) AS b', [table])).rows[0]!.b);
  /** Ships in the batches the shipper would hand the sink. */
  const ship = async (records: BootRequestRecord[]) => {
    for (let i = 0; i < records.length; i += 2000) await sink.ship(records.slice(i, i + 2000));
  };

  beforeAll(async () => {
    server = await startPostgres();
    const databaseUrl = await server.createDatabase('anvil_discovery');
    store = await openHistoryStore({ databaseUrl, dataDir: '' });
    pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    sink = new HistorySink(store, silentLogger(), new DiscoveryBudget(DEFAULT_DISCOVERY_BUDGET));
  });
  afterAll(async () => {
    await pool?.end();
    await store?.close();
    await server?.stop();
  });

  it('5,000 requests of 5 machines: 5 rows that count them, no boot request row', async () => {
    const before = await bytes('boot_requests');
    await ship(Array.from({ length: 5000 }, (_, i) => boot(i, mac(i % 5), `10.0.0.${i % 5}`)));
    expect(await rows('boot_requests')).toBe(0);
    expect(await bytes('boot_requests')).toBe(before);
    const stored = (await pool.query<{ mac: string; seen_count: string; last_ip: string; arch: string }>('SELECT mac, seen_count, last_ip, arch FROM discovered_machines ORDER BY mac')).rows;
    expect(stored.map((r) => ({ ...r, seen_count: Number(r.seen_count) }))).toEqual([0, 1, 2, 3, 4].map((i) => ({ mac: mac(i), seen_count: 1000, last_ip: `10.0.0.${i}`, arch: 'x86_64' })));
  });

  it('5,000 invented MACs from one address: at most the per-source budget of rows', async () => {
    const before = { discovered: await rows('discovered_machines'), bytes: await bytes('boot_requests') };
    await ship(Array.from({ length: 5000 }, (_, i) => boot(10_000 + i, mac(0x10000 + i), '10.0.66.6')));
    expect(await rows('discovered_machines') - before.discovered).toBe(DEFAULT_DISCOVERY_BUDGET.perSource);
    expect(await rows('boot_requests')).toBe(0);
    expect(await bytes('boot_requests')).toBe(before.bytes);
  });

  it('5,000 invented MACs from 1,000 addresses: at most the budget for all sources together', async () => {
    await ship(Array.from({ length: 5000 }, (_, i) => boot(20_000 + i, mac(0x20000 + i), `10.1.${i % 250}.${i % 4}`)));
    // Still the same window: the 5 machines and the one address took 37 of it.
    expect(await rows('discovered_machines')).toBe(DEFAULT_DISCOVERY_BUDGET.total);
    expect(await rows('boot_requests')).toBe(0);
    // The machines admitted before keep being recorded: their rows count on, no row is added.
    await ship(Array.from({ length: 50 }, (_, i) => boot(30_000 + i, mac(i % 5), '10.0.0.9')));
    expect(await rows('discovered_machines')).toBe(DEFAULT_DISCOVERY_BUDGET.total);
    expect(Number((await pool.query<{ n: string }>('SELECT sum(seen_count) AS n FROM discovered_machines WHERE mac = ANY($1)', [[0, 1, 2, 3, 4].map(mac)])).rows[0]!.n)).toBe(5050);
  });

  it('a known host\'s boot requests are still its history, one row each', async () => {
    const host = { namespace: 'lab', name: 'n1', uid: 'u1' };
    await ship(Array.from({ length: 100 }, (_, i) => boot(40_000 + i, mac(0x30000), '10.0.0.1', { served: 'InstallScript', host })));
    expect(await rows('boot_requests', 'host_name = $1', ['n1'])).toBe(100);
    expect(await rows('discovered_machines', 'mac = $1', [mac(0x30000)])).toBe(0);
  });
});
