// Opens the install history: PostgreSQL/CockroachDB when a DATABASE_URL is given, else the embedded PGlite database
// in dataDir. Drivers are imported lazily, so a process only loads the one it uses.
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
  return openPglite({ dataDir: opts.dataDir });
}

export async function openHistoryStore(opts: OpenHistoryStoreOptions): Promise<SqlHistoryStore> {
  const db = await openDatabase(opts);
  try {
    if (opts.migrate !== false) await migrate(db, { log: opts.log, retry: opts.retry });
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  opts.log?.info({ database: db.describe }, 'install history opened');
  return new SqlHistoryStore(db, { log: opts.log, retry: opts.retry });
}
