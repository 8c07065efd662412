import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { rowsOf, type SqlDatabase } from './database.js';
import { openPglite } from './drivers/pglite.js';
import { migrate } from './migrate.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { SqlHistoryStore } from './sql-store.js';

const extra: Migration = { version: 1000, name: 'test extra', statements: ['CREATE TABLE IF NOT EXISTS migrate_test_extra (id UUID PRIMARY KEY)'] };

describe('migrate (PGlite)', () => {
  let db: SqlDatabase;
  beforeEach(async () => {
    db = await openPglite({ dataDir: 'memory://' });
  });
  afterEach(() => db.close());

  const applied = async () => db.transaction(async (tx) => rowsOf<{ version: string }>(await tx.execute(sql`SELECT version FROM schema_migrations ORDER BY version`)).map((r) => Number(r.version)));

  it('applies everything to a fresh database, nothing to a migrated one, and only new migrations later', async () => {
    const all = MIGRATIONS.map((m) => m.version);
    expect(await migrate(db)).toEqual({ applied: all, current: all });
    expect(await migrate(db)).toEqual({ applied: [], current: all });
    expect(await migrate(db, { migrations: [...MIGRATIONS, extra] })).toEqual({ applied: [1000], current: [...all, 1000] });
    expect(await applied()).toEqual([...all, 1000]);
    // An older anvil (without migration 1000) still starts against the newer database.
    expect(await migrate(db)).toEqual({ applied: [], current: [...all, 1000] });
  });

  it('migration 2 keeps installs finished before it listable as failures (finish_received_at from finished_at)', async () => {
    await migrate(db, { migrations: MIGRATIONS.filter((m) => m.version === 1) });
    await db.exec(`INSERT INTO installations (id, host_namespace, host_name, host_uid, mac, revision, attempt, started_at, finished_at, result)
      VALUES ('00000000-0000-4000-8000-000000000001', 'default', 'n1', 'u1', 'm', 0, 1, '2026-03-01T00:00:00Z', '2026-03-01T00:10:00Z', 'FAIL'),
             ('00000000-0000-4000-8000-000000000002', 'default', 'n2', 'u2', 'm', 0, 1, '2026-03-01T00:00:00Z', NULL, NULL)`);
    await migrate(db);
    const store = new SqlHistoryStore(db);
    const failures = await store.listFailures({ since: new Date('2026-03-01T00:05:00Z') });
    expect(failures.items.map((i) => [i.id, i.finishReceivedAt?.toISOString(), i.failureStage])).toEqual([['00000000-0000-4000-8000-000000000001', '2026-03-01T00:10:00.000Z', null]]);
    expect(await store.getInstallation('00000000-0000-4000-8000-000000000002')).toMatchObject({ finishReceivedAt: null });
  });

  it('refuses to run when a shipped migration was edited', async () => {
    await migrate(db);
    const edited = MIGRATIONS.map((m, i) => (i === 0 ? { ...m, statements: [...m.statements, 'SELECT 1'] } : m));
    await expect(migrate(db, { migrations: edited })).rejects.toThrow(/different checksum/);
  });

  it('waits while another migrator holds the lease, and takes over an expired one', async () => {
    await migrate(db, { migrations: [] }); // bootstrap tables only
    await db.exec(`INSERT INTO schema_migrations_lock (id, owner, expires_at) VALUES (1, 'someone-else', now() + INTERVAL '1 hour')`);
    const sleeps: number[] = [];
    await expect(migrate(db, { waitTimeoutMs: 0, sleep: async (ms) => void sleeps.push(ms) })).rejects.toThrow(/gave up waiting for another migrator/);
    expect(await applied()).toEqual([]);

    // The holder crashed: its lease expires and the next migrator takes over.
    await db.exec(`UPDATE schema_migrations_lock SET expires_at = now() - INTERVAL '1 second'`);
    expect((await migrate(db, { owner: 'me' })).applied).toEqual(MIGRATIONS.map((m) => m.version));
    const lock = await db.transaction(async (tx) => rowsOf(await tx.execute(sql`SELECT * FROM schema_migrations_lock`)));
    expect(lock).toEqual([]); // released
  });

  it('lets concurrent migrators on one database end in one applied state', async () => {
    const results = await Promise.all([1, 2, 3].map((n) => migrate(db, { owner: `m${n}`, pollMs: 5 })));
    expect(results.flatMap((r) => r.applied).sort()).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await applied()).toEqual(MIGRATIONS.map((m) => m.version));
  });
});
