// Retention in SQL: installer events and boot requests older than a time are deleted; installation summaries stay.
import { inArray, lt } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { PruneResult } from '../history-store.js';
import { bootRequests, installerEvents } from '../schema.js';
import type { SqlContext } from './context.js';

/** Rows per DELETE when pruning. */
export const PRUNE_CHUNK = 1000;

/** Deletes the rows whose time is before olderThan in bounded deletes: one huge DELETE is a huge transaction (CockroachDB limits those, PostgreSQL bloats). */
async function deleteOlder(ctx: SqlContext, table: PgTable, id: PgColumn, time: PgColumn, olderThan: Date): Promise<number> {
  let deleted = 0;
  for (;;) {
    const n = await ctx.tx(async (tx) => {
      const ids = tx.select({ id }).from(table).where(lt(time, olderThan)).limit(PRUNE_CHUNK);
      return (await tx.delete(table).where(inArray(id, ids)).returning({ id })).length;
    });
    deleted += n;
    if (n < PRUNE_CHUNK) return deleted;
  }
}

export async function prune(ctx: SqlContext, olderThan: Date): Promise<PruneResult> {
  const result: PruneResult = {
    installerEvents: await deleteOlder(ctx, installerEvents, installerEvents.id, installerEvents.receivedAt, olderThan),
    bootRequests: await deleteOlder(ctx, bootRequests, bootRequests.id, bootRequests.time, olderThan),
  };
  ctx.log?.info({ olderThan: olderThan.toISOString(), ...result }, 'history pruned');
  return result;
}
