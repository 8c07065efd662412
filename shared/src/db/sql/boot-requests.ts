// Boot requests in SQL: stored once per id (derived from the request when the boot-server gave none), listed by MAC.
import { and, eq } from 'drizzle-orm';
import { normalizeMac } from '../../bootconfig/boot-config.js';
import type { BatchResult, BootRequest, BootRequestInput, Page, PageRequest } from '../history-store.js';
import { bootRequestsNewestFirst } from '../list-orders.js';
import { keysetPage } from '../paging.js';
import { bootRequests } from '../schema.js';
import { normalizeBootRequests, toBootRequest } from '../store-util.js';
import { type SqlContext, warnInvalid, writeInChunks } from './context.js';

export async function recordBootRequests(ctx: SqlContext, inputs: readonly BootRequestInput[]): Promise<BatchResult> {
  const { requests, invalid } = normalizeBootRequests(inputs);
  warnInvalid(ctx, invalid, 'boot requests');
  const inserted = await writeInChunks(ctx, requests, (r) => r.id, async (tx, chunk) =>
    (await tx.insert(bootRequests).values(chunk).onConflictDoNothing({ target: bootRequests.id }).returning({ id: bootRequests.id })).length,
  );
  return { inserted, invalid };
}

export function listBootRequests(ctx: SqlContext, mac: string, page?: PageRequest): Promise<Page<BootRequest>> {
  const b = bootRequests;
  return keysetPage(page, bootRequestsNewestFirst, [b.time, b.id], async ({ after, orderBy, limit }) => {
    const rows = await ctx.tx((tx) => tx.select().from(b).where(and(eq(b.mac, normalizeMac(mac)), after)).orderBy(...orderBy).limit(limit), true);
    return rows.map(toBootRequest);
  });
}
