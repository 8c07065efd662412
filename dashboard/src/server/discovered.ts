// The discovered machines view's data: machines the boot-server saw whose MAC no BareMetalHost declares, from the
// install history, most recently seen first, a page at a time (the history's own cursor).
import type { DiscoveredMachine } from '@anvil/core/db';
import type { HistoryReader } from './ports.js';

export interface DiscoveredRow {
  mac: string;
  firstSeen: string;
  lastSeen: string;
  timesSeen: number;
  lastIp: string | null;
  arch: string | null;
  platform: string | null;
  systemUuid: string | null;
}

export interface DiscoveredQuery {
  limit: number;
  cursor?: string;
}

export type DiscoveredView =
  | { history: 'available'; items: DiscoveredRow[]; nextCursor: string | null }
  | { history: 'unavailable'; historyMessage: string; items: []; nextCursor: null };

export const HISTORY_UNAVAILABLE = 'the install history is not available here (the operator runs without --database-url)';

/** ?limit=&cursor= -> the query; throws an Error with a message for the user. */
export function parseDiscoveredQuery(q: Record<string, unknown>): DiscoveredQuery {
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new Error('limit must be a whole number from 1 to 500');
  if (q.cursor !== undefined && (typeof q.cursor !== 'string' || !q.cursor)) throw new Error('cursor must be given once, as returned in nextCursor');
  return { limit, ...(typeof q.cursor === 'string' ? { cursor: q.cursor } : {}) };
}

const row = (d: DiscoveredMachine): DiscoveredRow => ({
  mac: d.mac,
  firstSeen: d.firstSeen.toISOString(),
  lastSeen: d.lastSeen.toISOString(),
  timesSeen: d.seenCount,
  lastIp: d.lastIp,
  arch: d.arch,
  platform: d.platform,
  systemUuid: d.systemUuid,
});

export async function discoveredView(history: HistoryReader | undefined, query: DiscoveredQuery): Promise<DiscoveredView> {
  if (!history) return { history: 'unavailable', historyMessage: HISTORY_UNAVAILABLE, items: [], nextCursor: null };
  const page = await history.listDiscovered({ limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) });
  return { history: 'available', items: page.items.map(row), nextCursor: page.nextCursor ?? null };
}
