// What the SQL store's modules share: the transaction runner and batch writes in chunks. Every write is idempotent,
// so a batch that fails halfway is simply shipped again.
import type { Logger } from '../../logging.js';
import type { Db } from '../database.js';

/** Runs fn in a SERIALIZABLE transaction, retried on serialization failures (SqlHistoryStore counts the retries). */
export type RunTx = <T>(fn: (tx: Db) => Promise<T>, readOnly?: boolean) => Promise<T>;

export interface SqlContext {
  tx: RunTx;
  log?: Logger;
}

/** Rows per INSERT statement and per transaction (small transactions are what CockroachDB handles best). */
export const CHUNK = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

// Every writer writes rows in one global key order: two batches holding the same keys in different orders (a
// re-shipped batch, concurrent shippers) otherwise lock each other's rows crosswise and deadlock (40P01) until the
// retries run out.
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
export const inKeyOrder = <T>(items: readonly T[], key: (t: T) => string): T[] => [...items].sort((a, b) => byKey(key(a), key(b)));

/** Writes items in key order, in chunks of CHUNK, one transaction each; returns the sum of what the writes return (rows inserted). */
export async function writeInChunks<T>(ctx: SqlContext, items: readonly T[], key: (t: T) => string, write: (tx: Db, chunk: T[]) => Promise<number>): Promise<number> {
  let written = 0;
  for (const chunk of chunks(inKeyOrder(items, key), CHUNK)) written += await ctx.tx((tx) => write(tx, chunk));
  return written;
}

export function warnInvalid(ctx: SqlContext, invalid: number, what: string): void {
  if (invalid) ctx.log?.warn({ invalid }, `history: dropped ${what} that can never be stored`);
}
