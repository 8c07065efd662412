// PostgreSQL and CockroachDB through node-postgres: a bounded pool, every transaction SERIALIZABLE on one pooled
// connection. Retrying on 40001 is the store's job (retry.ts); this file only runs one attempt.
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Logger } from '../../logging.js';
import type { Db, SqlDatabase } from '../database.js';

export interface PgDriverOptions {
  /** postgres://user:pass@host:port/db?sslmode=... (CockroachDB: port 26257, same scheme). */
  url: string;
  /** Connections at most (default 10). */
  poolSize?: number;
  /** How long to wait for a connection before failing (default 10 s). */
  connectTimeoutMs?: number;
  /** Idle connections are closed after this (default 30 s). */
  idleTimeoutMs?: number;
  /** Server-side statement_timeout (default 30 s; 0 disables). */
  statementTimeoutMs?: number;
  applicationName?: string;
  log?: Logger;
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}

export function openPostgres(opts: PgDriverOptions): SqlDatabase {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
    statement_timeout: opts.statementTimeoutMs ?? 30_000,
    application_name: opts.applicationName ?? 'anvil',
  });
  // An idle connection that the server drops emits 'error' on the pool; unhandled, it would kill the process.
  pool.on('error', (err) => opts.log?.warn({ err: err.message }, 'history database: idle connection lost'));

  return {
    kind: 'pg',
    describe: redactUrl(opts.url),
    async transaction<T>(fn: (tx: Db) => Promise<T>, txOpts: { readOnly?: boolean } = {}): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query(`BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE${txOpts.readOnly ? ', READ ONLY' : ''}`);
        const result = await fn(drizzle({ client }) as unknown as Db);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async exec(statement: string): Promise<void> {
      await pool.query(statement);
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}
