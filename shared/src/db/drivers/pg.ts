// PostgreSQL and CockroachDB through node-postgres: a bounded pool, every transaction SERIALIZABLE on one pooled
// connection. Retrying on 40001 is the store's job (retry.ts); this file only runs one attempt.
//
// A database outage must never take the process down. node-postgres reports a lost connection as an 'error' event on
// its Client; the pool listens on idle clients, but a checked-out client has no listener, and an unhandled 'error'
// event kills the process. So every checkout listens for the whole time it holds the client, and a client that lost
// its connection is discarded instead of being returned to the pool.
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Logger } from '../../logging.js';
import type { Db, SqlDatabase } from '../database.js';
import { nodePgDb } from './drizzle-adapter.js';

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
  /**
   * Client-side limit on one query, for a server that stopped answering without closing the connection (a network
   * partition), which statement_timeout cannot catch. Default: statementTimeoutMs + 10 s; 0 disables.
   */
  queryTimeoutMs?: number;
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

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

// What says "the server is not there (yet)" rather than "the request is wrong": worth waiting for, never fatal.
const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
// 08xxx connection exceptions; 57P01-57P03 admin/crash shutdown and "the database system is starting up";
// 53300 too many connections.
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;
const CONNECTION_LOST_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable/;

/** True for errors that mean the database is unreachable or restarting (drizzle's wrappers are looked through). */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNREACHABLE_ERRNOS.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
    if (e instanceof AggregateError && e.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    if (e instanceof Error && CONNECTION_LOST_MESSAGE.test(e.message)) return true;
  }
  return false;
}

export function openPostgres(opts: PgDriverOptions): SqlDatabase {
  const statementTimeout = opts.statementTimeoutMs ?? 30_000;
  const queryTimeout = opts.queryTimeoutMs ?? (statementTimeout > 0 ? statementTimeout + 10_000 : 0);
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
    statement_timeout: statementTimeout,
    ...(queryTimeout > 0 ? { query_timeout: queryTimeout } : {}),
    // A peer that vanished without a FIN/RST (host down, partition) is noticed on an idle connection too.
    keepAlive: true,
    keepAliveInitialDelayMillis: 30_000,
    application_name: opts.applicationName ?? 'anvil',
  });
  // An idle connection that the server drops emits 'error' on the pool; unhandled, it would kill the process.
  pool.on('error', (err) => opts.log?.warn({ err: err.message }, 'history database: idle connection lost'));

  return {
    kind: 'pg',
    describe: redactUrl(opts.url),
    async transaction<T>(fn: (tx: Db) => Promise<T>, txOpts: { readOnly?: boolean } = {}): Promise<T> {
      const client = await pool.connect();
      // Set when the connection dies while we hold it; the query in flight (or the next one) then rejects.
      let lost: Error | undefined;
      const onConnectionLost = (err: Error): void => {
        lost ??= err;
      };
      client.on('error', onConnectionLost);
      let discard: Error | undefined;
      try {
        await client.query(`BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE${txOpts.readOnly ? ', READ ONLY' : ''}`);
        const result = await fn(nodePgDb(drizzle({ client })));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        // A dead (or hung) connection cannot roll back, the server does that itself; a live one must, before reuse.
        discard = lost ?? (isDatabaseUnavailable(err) ? asError(err) : await rollback(client));
        throw err;
      } finally {
        // Released with an error, the pool closes the client instead of reusing it. From release on, the pool's own
        // listener handles this client's errors again.
        client.release(discard ?? lost);
        client.off('error', onConnectionLost);
        if (lost) opts.log?.warn({ err: lost.message }, 'history database: connection lost during a transaction');
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

/** Rolls back; returns why the connection must be discarded when even that fails (undefined when it worked). */
async function rollback(client: pg.PoolClient): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (err) {
    return asError(err);
  }
}
