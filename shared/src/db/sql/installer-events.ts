// Installer events in SQL: batches inserted once per (installation, event key), and an installation's timeline.
import { and, eq, sql } from 'drizzle-orm';
import { rowsOf } from '../database.js';
import type { BatchResult, InstallerEventInput, Page, PageRequest, StoredInstallerEvent } from '../history-store.js';
import { eventsInTimeOrder } from '../list-orders.js';
import { keysetPage } from '../paging.js';
import { installerEvents } from '../schema.js';
import { isUuid, normalizeEvents, type NormalizedEvent } from '../store-util.js';
import { type SqlContext, warnInvalid, writeInChunks } from './context.js';

/** A PostgreSQL array literal of text values (NULL for null), for one parameter cast to the column's array type. */
function arrayLiteral(values: readonly (string | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;
}

/**
 * Installer events inserted as one array parameter per column (unnest) instead of a VALUES list of one parameter
 * per column and row: for 500 events, building, sending and planning 5,500 parameters cost the boot-server about
 * 100 µs of CPU per event and PostgreSQL most of the transaction; the arrays cost about 15 µs (bench: webhook).
 * PostgreSQL, PGlite and CockroachDB all take unnest of several arrays.
 */
function insertEventsStatement(rows: readonly NormalizedEvent[]) {
  const column = (value: (e: NormalizedEvent) => string | null) => arrayLiteral(rows.map(value));
  return sql`INSERT INTO installer_events (installation_id, event_key, name, event_type, result, origin, level, description, event_time, received_at, raw)
    SELECT installation_id, event_key, name, event_type, result, origin, level, description, event_time, received_at, raw::jsonb
    FROM unnest(${column((e) => e.installationId)}::uuid[], ${column((e) => e.eventKey)}::text[], ${column((e) => e.name)}::text[],
      ${column((e) => e.eventType)}::text[], ${column((e) => e.result)}::text[], ${column((e) => e.origin)}::text[], ${column((e) => e.level)}::text[],
      ${column((e) => e.description)}::text[], ${column((e) => e.eventTime.toISOString())}::timestamptz[], ${column((e) => e.receivedAt.toISOString())}::timestamptz[],
      ${column((e) => (e.raw === null ? null : JSON.stringify(e.raw)))}::text[])
      AS t(installation_id, event_key, name, event_type, result, origin, level, description, event_time, received_at, raw)
    ON CONFLICT (installation_id, event_key) DO NOTHING
    RETURNING id`;
}

export async function recordInstallerEvents(ctx: SqlContext, inputs: readonly InstallerEventInput[]): Promise<BatchResult> {
  const { events, invalid } = normalizeEvents(inputs);
  warnInvalid(ctx, invalid, 'installer events');
  const inserted = await writeInChunks(ctx, events, (e) => `${e.installationId} ${e.eventKey}`, async (tx, chunk) => rowsOf(await tx.execute(insertEventsStatement(chunk))).length);
  return { inserted, invalid };
}

export function listInstallerEvents(ctx: SqlContext, installationId: string, page?: PageRequest): Promise<Page<StoredInstallerEvent>> {
  const e = installerEvents;
  return keysetPage(page, eventsInTimeOrder, [e.eventTime, e.receivedAt, e.id], async ({ after, orderBy, limit }) => {
    if (!isUuid(installationId)) return [];
    const rows = await ctx.tx((tx) => tx.select().from(e).where(and(eq(e.installationId, installationId.toLowerCase()), after)).orderBy(...orderBy).limit(limit), true);
    return rows.map((r) => ({ ...r, raw: r.raw ?? null }));
  });
}
