// Discovered machines in SQL: one row per MAC, merged with its sightings, listed latest seen first.
import { inArray, sql } from 'drizzle-orm';
import type { DiscoveredMachine, DiscoveredMachineInput, Page, PageRequest } from '../history-store.js';
import { applySightings, sightingsByMac } from '../discovery.js';
import { discoveredLatestFirst } from '../list-orders.js';
import { keysetPage } from '../paging.js';
import { discoveredMachines } from '../schema.js';
import { type SqlContext, writeInChunks } from './context.js';

export async function recordDiscovered(ctx: SqlContext, inputs: readonly DiscoveredMachineInput[]): Promise<void> {
  // Read, merge and write each MAC's one row in a transaction: a flood of sightings of a few MACs is one statement
  // per chunk of MACs, not one per sighting, and the row counts them.
  const byMac = sightingsByMac(inputs);
  const d = discoveredMachines;
  await writeInChunks(ctx, [...byMac.keys()], (mac) => mac, async (tx, macs) => {
    const stored = new Map((await tx.select().from(d).where(inArray(d.mac, macs)).for('update')).map((r) => [r.mac, r]));
    const rows = macs.map((mac) => ({ mac, ...applySightings(stored.get(mac), byMac.get(mac)!) }));
    await tx
      .insert(d)
      .values(rows)
      .onConflictDoUpdate({
        target: d.mac,
        set: {
          firstSeen: sql`excluded.first_seen`,
          lastSeen: sql`excluded.last_seen`,
          seenCount: sql`excluded.seen_count`,
          lastIp: sql`excluded.last_ip`,
          arch: sql`excluded.arch`,
          platform: sql`excluded.platform`,
          systemUuid: sql`excluded.system_uuid`,
        },
      });
    return rows.length;
  });
}

export function listDiscovered(ctx: SqlContext, page?: PageRequest): Promise<Page<DiscoveredMachine>> {
  const d = discoveredMachines;
  return keysetPage(page, discoveredLatestFirst, [d.lastSeen, d.id], ({ after, orderBy, limit }) =>
    ctx.tx((tx) => tx.select().from(d).where(after).orderBy(...orderBy).limit(limit), true),
  );
}
