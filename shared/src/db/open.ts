// Opens the install history: PostgreSQL/CockroachDB when a DATABASE_URL is given, else the embedded PGlite database
// in dataDir. Drivers are imported lazily, so a process only loads the one it uses.
//
// A database that is down when the process starts is an outage like any other, not a reason to exit: the store opens
// anyway and applies its migrations on first use once the server answers (until then every call fails, and callers
// such as the boot-server's shipper retry). A database that answers but refuses (bad credentials, unknown database,
// an edited migration) still fails the start, so a misconfiguration is seen at once.
import type { Logger } from '../logging.js';
import type { SqlDatabase } from './database.js';
import { migrate } from './migrate.js';
import type { RetryOptions } from './retry.js';
import { SqlHistoryStore } from './sql-store.js';

export interface OpenDatabaseOptions {
  /** postgres://... for PostgreSQL or CockroachDB; unset (or empty) for the embedded database. */
  databaseUrl?: string;
  /** The embedded database's directory (created if missing), or 'memory://'. Ignored with databaseUrl. */
  dataDir: string;
  /** pg pool size (default 10). */
  poolSize?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** Shown in pg_stat_activity / crdb_internal (default 'anvil'). */
  applicationName?: string;
  log?: Logger;
}

export interface OpenHistoryStoreOptions extends OpenDatabaseOptions {
  /** Apply pending migrations before returning (default true; safe from several replicas at once). */
  migrate?: boolean;
  /**
   * When PostgreSQL is unreachable at open, open anyway and migrate on first use (default true). False: fail the
   * open instead.
   */
  tolerateUnavailable?: boolean;
  retry?: RetryOptions;
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<SqlDatabase> {
  if (opts.databaseUrl) {
    const { openPostgres } = await import('./drivers/pg.js');
    return openPostgres({
      url: opts.databaseUrl,
      poolSize: opts.poolSize,
      connectTimeoutMs: opts.connectTimeoutMs,
      statementTimeoutMs: opts.statementTimeoutMs,
      applicationName: opts.applicationName,
      log: opts.log,
    });
  }
  const { openPglite } = await import('./drivers/pglite.js');
  return openPglite({ dataDir: opts.dataDir, log: opts.log });
}

export async function openHistoryStore(opts: OpenHistoryStoreOptions): Promise<SqlHistoryStore> {
  const db = await openDatabase(opts);
  let usable: SqlDatabase = db;
  const runMigrations = () => migrate(db, { log: opts.log, retry: opts.retry });
  try {
    if (opts.migrate !== false) await runMigrations();
  } catch (err) {
    if (!(await worthWaitingFor(db, err, opts))) {
      await db.close().catch(() => undefined);
      throw err;
    }
    opts.log?.warn({ database: db.describe, err: err instanceof Error ? err.message : String(err) }, 'history database unavailable; continuing without it, will migrate once it answers');
    usable = migratedOnFirstUse(db, runMigrations, opts.log);
  }
  opts.log?.info({ database: db.describe }, 'install history opened');
  return new SqlHistoryStore(usable, { log: opts.log, retry: opts.retry });
}

async function worthWaitingFor(db: SqlDatabase, err: unknown, opts: OpenHistoryStoreOptions): Promise<boolean> {
  if (db.kind !== 'pg' || opts.tolerateUnavailable === false) return false;
  const { isDatabaseUnavailable } = await import('./drivers/pg.js');
  return isDatabaseUnavailable(err);
}

/** The database, with `migrate` run (once, successfully) before anything else goes through it. */
function migratedOnFirstUse(db: SqlDatabase, migrateNow: () => Promise<unknown>, log?: Logger): SqlDatabase {
  let migrated = false;
  let inFlight: Promise<void> | undefined;
  const ready = async (): Promise<void> => {
    if (migrated) return;
    inFlight ??= migrateNow()
      .then(() => {
        migrated = true;
        log?.info({ database: db.describe }, 'history database reachable again; migrations applied');
      })
      .finally(() => {
        inFlight = undefined;
      });
    await inFlight;
  };
  return {
    kind: db.kind,
    describe: db.describe,
    async transaction(fn, txOpts) {
      await ready();
      return db.transaction(fn, txOpts);
    },
    async exec(statement) {
      await ready();
      return db.exec(statement);
    },
    close: () => db.close(),
  };
}
