// Applies MIGRATIONS, safely from several replicas at once (operator and boot-server pods starting together, or a
// Helm hook Job), without advisory locks (CockroachDB has none):
//   1. `schema_migrations` (applied versions with checksums) and `schema_migrations_lock` (one lease row) are
//      created with IF NOT EXISTS; the race between two concurrent CREATEs (23505/42P07) is retried.
//   2. A migrator claims the lease with one conditional upsert in a SERIALIZABLE transaction: it takes row 1 only
//      when the row is missing, expired (by the database's clock), or already its own. Everyone else polls until the
//      holder has finished (all versions applied) or its lease expires (a crashed holder), then tries again.
//   3. The holder runs each pending migration's statements one by one (each idempotent, outside an explicit
//      transaction, as CockroachDB recommends for schema changes), then records the version and renews its lease in
//      one transaction, and finally deletes the lease row.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sql } from 'drizzle-orm';
import type { Logger } from '../logging.js';
import { rowsOf, type SqlDatabase } from './database.js';
import { MIGRATIONS, migrationChecksum, type Migration } from './migrations.js';
import { sqlState, withSerializableRetry, type RetryOptions } from './retry.js';

export interface MigrateOptions {
  log?: Logger;
  /** Defaults to MIGRATIONS (tests pass their own). */
  migrations?: readonly Migration[];
  /** Who is migrating, stored in the lease row (default host-pid-random). */
  owner?: string;
  /** Lease length; renewed after each migration (default 300 s). */
  leaseSeconds?: number;
  /** Give up waiting for another migrator after this long (default 15 min). */
  waitTimeoutMs?: number;
  /** Poll interval while another migrator holds the lease (default 500 ms, jittered). */
  pollMs?: number;
  retry?: RetryOptions;
  sleep?: (ms: number) => Promise<void>;
}

export interface MigrateResult {
  /** Versions this call applied. */
  applied: number[];
  /** Versions the database had applied when this call finished. */
  current: number[];
}

const BOOTSTRAP = [
  `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INT8 PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE IF NOT EXISTS schema_migrations_lock (
    id INT4 PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
  )`,
];

/** Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog; running it again then succeeds. */
const DDL_RACE_STATES = new Set(['23505', '42P07', '42710', '40001', '40P01']);

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function execWithRetry(db: SqlDatabase, statement: string, sleep: (ms: number) => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.exec(statement);
      return;
    } catch (err) {
      if (attempt >= 10 || !DDL_RACE_STATES.has(sqlState(err) ?? '')) throw err;
      await sleep(Math.floor(Math.random() * 20 * attempt));
    }
  }
}

export async function migrate(db: SqlDatabase, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = [...(opts.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  const owner = opts.owner ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const lease = Math.max(1, Math.floor(opts.leaseSeconds ?? 300));
  const sleep = opts.sleep ?? defaultSleep;
  const deadline = Date.now() + (opts.waitTimeoutMs ?? 15 * 60_000);
  const tx = <T>(fn: Parameters<SqlDatabase['transaction']>[0], readOnly = false) =>
    withSerializableRetry(() => db.transaction(fn, { readOnly }), opts.retry) as Promise<T>;

  for (const s of BOOTSTRAP) await execWithRetry(db, s, sleep);

  const readApplied = () =>
    tx<Map<number, string>>(async (t) => {
      const rows = rowsOf<{ version: string | number; checksum: string }>(await t.execute(sql`SELECT version, checksum FROM schema_migrations`));
      return new Map(rows.map((r) => [Number(r.version), r.checksum]));
    }, true);
  const pendingOf = (applied: Map<number, string>) => {
    for (const m of migrations) {
      const have = applied.get(m.version);
      if (have !== undefined && have !== migrationChecksum(m)) {
        throw new Error(`migration ${m.version} (${m.name}) was applied with a different checksum: a shipped migration was edited; add a new migration instead`);
      }
    }
    return migrations.filter((m) => !applied.has(m.version));
  };
  const claim = () =>
    tx<boolean>(async (t) => {
      const rows = rowsOf(
        await t.execute(sql`
          INSERT INTO schema_migrations_lock (id, owner, expires_at) VALUES (1, ${owner}, now() + ${sql.raw(String(lease))} * INTERVAL '1 second')
          ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
          WHERE schema_migrations_lock.expires_at < now() OR schema_migrations_lock.owner = excluded.owner
          RETURNING owner`),
      );
      return rows.length === 1;
    });

  const applied: number[] = [];
  let waitingLogged = false;
  for (let round = 1; ; round++) {
    let pending = pendingOf(await readApplied());
    if (!pending.length) break;
    if (await claim()) {
      try {
        pending = pendingOf(await readApplied());
        for (const m of pending) {
          opts.log?.info({ version: m.version, name: m.name, owner }, 'applying migration');
          for (const s of m.statements) await execWithRetry(db, s, sleep);
          await tx(async (t) => {
            const held = rowsOf(
              await t.execute(sql`UPDATE schema_migrations_lock SET expires_at = now() + ${sql.raw(String(lease))} * INTERVAL '1 second' WHERE id = 1 AND owner = ${owner} RETURNING owner`),
            );
            if (!held.length) throw new Error(`lost the migration lease while applying migration ${m.version}; another migrator took over`);
            await t.execute(sql`INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (${m.version}, ${m.name}, ${migrationChecksum(m)}, now()) ON CONFLICT (version) DO NOTHING`);
          });
          applied.push(m.version);
        }
      } finally {
        await tx(async (t) => {
          await t.execute(sql`DELETE FROM schema_migrations_lock WHERE id = 1 AND owner = ${owner}`);
        }).catch((err: unknown) => opts.log?.warn({ err: String(err) }, 'could not release the migration lease; it expires by itself'));
      }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for another migrator (schema_migrations_lock is held); pending: ${pending.map((m) => m.version).join(', ')}`);
    if (!waitingLogged) opts.log?.info({ owner }, 'another replica is migrating the history database; waiting');
    waitingLogged = true;
    const poll = opts.pollMs ?? 500;
    await sleep(Math.floor(poll / 2 + Math.random() * poll * Math.min(4, round)));
  }

  const current = [...(await readApplied()).keys()].sort((a, b) => a - b);
  const known = new Set(migrations.map((m) => m.version));
  const unknown = current.filter((v) => !known.has(v));
  if (unknown.length) opts.log?.warn({ unknown }, 'the history database has migrations this version does not know (a newer anvil ran); continuing');
  return { applied, current };
}
