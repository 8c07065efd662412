// HistoryStore over SQL (PostgreSQL, CockroachDB or PGlite, through the SqlDatabase port). Every call runs in
// SERIALIZABLE transactions retried on 40001 with exponential backoff and jitter; batches are written in chunks of
// at most CHUNK rows, one transaction each (small transactions are what CockroachDB handles best, and every write
// is idempotent, so a batch that fails halfway is simply shipped again).
import { and, asc, desc, eq, gt, gte, inArray, isNull, like, lt, or, sql, type AnyColumn } from 'drizzle-orm';
import type { Logger } from '../logging.js';
import { rowsOf, type Db, type SqlDatabase } from './database.js';
import type {
  BatchResult,
  BootRequest,
  BootRequestInput,
  DiscoveredMachine,
  DiscoveredMachineInput,
  FinishOutcome,
  HistoryStore,
  HostKey,
  InstallFinished,
  InstallStarted,
  InstallStats,
  Installation,
  InstallerEventInput,
  Page,
  PageRequest,
  PruneResult,
  StoredInstallerEvent,
  TemplateBuild,
  TemplateBuildFinished,
  TemplateBuildStarted,
  TemplateStats,
} from './history-store.js';
import { applySightings, sightingsByMac } from './discovery.js';
import { withSerializableRetry, type RetryOptions } from './retry.js';
import { bootRequests, discoveredMachines, installations, installerEvents, templateBuilds } from './schema.js';
import {
  type NormalizedEvent,
  clean,
  decodeCursor,
  finishColumns,
  HistoryQueryError,
  isUuid,
  MAX_FAILURE_EVENTS,
  needsDerivedFailure,
  normalizeBootRequests,
  normalizeEvents,
  normalizeMac,
  pageLimit,
  requireDate,
  toDate,
  toPage,
} from './store-util.js';

/** Rows per INSERT statement and per transaction. */
export const CHUNK = 500;

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
/** Rows per DELETE when pruning. */
export const PRUNE_CHUNK = 1000;

export interface SqlHistoryStoreOptions {
  log?: Logger;
  retry?: RetryOptions;
}

type InstallationRow = typeof installations.$inferSelect;
type EventRow = typeof installerEvents.$inferSelect;
type BuildRow = typeof templateBuilds.$inferSelect;

const toInstallation = (r: InstallationRow): Installation => ({
  id: r.id,
  host: { namespace: r.hostNamespace, name: r.hostName, uid: r.hostUid },
  mac: r.mac,
  template: { name: r.templateName, contentHash: r.templateContentHash, generation: r.templateGeneration === null ? null : Number(r.templateGeneration) },
  revision: Number(r.revision),
  attempt: Number(r.attempt),
  startedAt: r.startedAt,
  finishedAt: r.finishedAt,
  finishReceivedAt: r.finishReceivedAt,
  result: r.result,
  durationSeconds: r.durationSeconds === null ? null : Number(r.durationSeconds),
  failureReason: r.failureReason,
  failureMessage: r.failureMessage,
  failureStage: r.failureStage,
});

const toEvent = (r: EventRow): StoredInstallerEvent => ({ ...r, raw: r.raw ?? null });

const toBuild = (r: BuildRow): TemplateBuild => ({
  id: r.id,
  template: { namespace: r.templateNamespace, name: r.templateName },
  version: r.version,
  vmid: r.vmid === null ? null : Number(r.vmid),
  node: r.node,
  checksum: r.checksum,
  startedAt: r.startedAt,
  finishedAt: r.finishedAt,
  result: r.result,
  failureReason: r.failureReason,
  taskUpid: r.taskUpid,
});

const num = (v: unknown): number => Number(v ?? 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function installationRow(i: InstallStarted, startedAt: Date): typeof installations.$inferInsert {
  return {
    id: i.installationId.toLowerCase(),
    hostNamespace: i.host.namespace,
    hostName: i.host.name,
    hostUid: i.host.uid,
    mac: normalizeMac(i.mac),
    templateName: i.template?.name ?? null,
    templateContentHash: i.template?.contentHash ?? null,
    templateGeneration: i.template?.generation ?? null,
    revision: i.revision,
    attempt: i.attempt,
    startedAt,
  };
}

// Every writer inserts rows in one global key order: two batches holding the same keys in different orders (a
// re-shipped batch, concurrent shippers) otherwise lock each other's rows crosswise and deadlock (40P01) until the
// retries run out.
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const inKeyOrder = <T>(items: readonly T[], key: (t: T) => string): T[] => [...items].sort((a, b) => byKey(key(a), key(b)));

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** (time, id) < (cursor time, cursor id) for a descending keyset, written without row values for portability. */
const before = (time: AnyColumn, id: AnyColumn, c: { times: Date[]; id: string }) => or(lt(time, c.times[0]!), and(eq(time, c.times[0]!), lt(id, c.id)));

export class SqlHistoryStore implements HistoryStore {
  private retries = 0;
  private readonly log?: Logger;

  constructor(
    private readonly db: SqlDatabase,
    private readonly opts: SqlHistoryStoreOptions = {},
  ) {
    this.log = opts.log;
  }

  get describe(): string {
    return this.db.describe;
  }

  retryCount(): number {
    return this.retries;
  }

  private tx<T>(fn: (tx: Db) => Promise<T>, readOnly = false): Promise<T> {
    return withSerializableRetry(() => this.db.transaction(fn, { readOnly }), {
      ...this.opts.retry,
      onRetry: (err, attempt, delayMs) => {
        this.retries++;
        this.log?.debug({ attempt, delayMs, err: err instanceof Error ? err.message : String(err) }, 'history transaction: serialization failure, retrying');
        this.opts.retry?.onRetry?.(err, attempt, delayMs);
      },
    });
  }

  async recordInstallStarted(i: InstallStarted): Promise<void> {
    if (!isUuid(i.installationId)) throw new HistoryQueryError(`installationId must be a UUID: ${i.installationId}`);
    const startedAt = requireDate(i.startedAt, 'startedAt');
    await this.tx((tx) => tx.insert(installations).values(installationRow(i, startedAt)).onConflictDoNothing({ target: installations.id }));
  }

  async recordInstallsStarted(inputs: readonly InstallStarted[]): Promise<BatchResult> {
    const rows = new Map<string, typeof installations.$inferInsert>();
    let invalid = 0;
    for (const i of inputs) {
      const startedAt = toDate(i.startedAt);
      if (!isUuid(i.installationId) || !startedAt) invalid++;
      else if (!rows.has(i.installationId.toLowerCase())) rows.set(i.installationId.toLowerCase(), installationRow(i, startedAt));
    }
    if (invalid) this.log?.warn({ invalid }, 'history: dropped install starts that can never be stored');
    let inserted = 0;
    for (const chunk of chunks(inKeyOrder([...rows.values()], (r) => r.id), CHUNK)) {
      inserted += await this.tx(async (tx) => (await tx.insert(installations).values(chunk).onConflictDoNothing({ target: installations.id }).returning({ id: installations.id })).length);
    }
    return { inserted, invalid };
  }

  async recordInstallFinished(f: InstallFinished): Promise<FinishOutcome> {
    if (!isUuid(f.installationId)) return 'not-found';
    const finishedAt = requireDate(f.finishedAt, 'finishedAt');
    const receivedAt = f.receivedAt === undefined ? new Date() : requireDate(f.receivedAt, 'receivedAt');
    const id = f.installationId.toLowerCase();
    const e = installerEvents;
    return this.tx(async (tx) => {
      const [row] = await tx.select({ startedAt: installations.startedAt, finishedAt: installations.finishedAt }).from(installations).where(eq(installations.id, id));
      if (!row) return 'not-found';
      if (row.finishedAt) return 'already-finished';
      const [earliest] = await tx.select({ eventTime: e.eventTime }).from(e).where(eq(e.installationId, id)).orderBy(asc(e.eventTime)).limit(1);
      const evidence = needsDerivedFailure(f)
        ? await tx
            .select({ name: e.name, eventType: e.eventType, result: e.result, description: e.description, eventTime: e.eventTime, receivedAt: e.receivedAt })
            .from(e)
            .where(and(eq(e.installationId, id), or(and(eq(e.eventType, 'finish'), eq(e.result, 'FAIL')), and(eq(e.eventType, 'start'), like(e.name, '%run_curtin_step%')))))
            .orderBy(asc(e.eventTime), asc(e.receivedAt), asc(e.id))
            .limit(MAX_FAILURE_EVENTS)
        : undefined;
      await tx
        .update(installations)
        .set(finishColumns(f, { finishedAt, receivedAt, startedAt: row.startedAt, earliestEvent: earliest?.eventTime }, evidence))
        .where(and(eq(installations.id, id), isNull(installations.finishedAt)));
      return 'updated';
    });
  }

  async recordInstallerEvents(inputs: readonly InstallerEventInput[]): Promise<BatchResult> {
    const { events, invalid } = normalizeEvents(inputs);
    if (invalid) this.log?.warn({ invalid }, 'history: dropped installer events that can never be stored');
    let inserted = 0;
    for (const chunk of chunks(inKeyOrder(events, (e) => `${e.installationId} ${e.eventKey}`), CHUNK)) {
      inserted += await this.tx(async (tx) => rowsOf(await tx.execute(insertEventsStatement(chunk))).length);
    }
    return { inserted, invalid };
  }

  async recordBootRequests(inputs: readonly BootRequestInput[]): Promise<BatchResult> {
    const { requests, invalid } = normalizeBootRequests(inputs);
    if (invalid) this.log?.warn({ invalid }, 'history: dropped boot requests that can never be stored');
    let inserted = 0;
    for (const chunk of chunks(inKeyOrder(requests, (r) => r.id), CHUNK)) {
      inserted += await this.tx(async (tx) => {
        const rows = await tx.insert(bootRequests).values(chunk).onConflictDoNothing({ target: bootRequests.id }).returning({ id: bootRequests.id });
        return rows.length;
      });
    }
    return { inserted, invalid };
  }

  async recordDiscovered(inputs: readonly DiscoveredMachineInput[]): Promise<void> {
    // Read, merge and write each MAC's one row in a transaction: a flood of sightings of a few MACs is one statement
    // per chunk of MACs, not one per sighting, and the row counts them.
    const byMac = sightingsByMac(inputs);
    const d = discoveredMachines;
    for (const macs of chunks([...byMac.keys()].sort(), CHUNK)) {
      await this.tx(async (tx) => {
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
      });
    }
  }

  async recordTemplateBuildStarted(b: TemplateBuildStarted): Promise<void> {
    if (!isUuid(b.id)) throw new HistoryQueryError(`template build id must be a UUID: ${b.id}`);
    const startedAt = requireDate(b.startedAt, 'startedAt');
    await this.tx((tx) =>
      tx
        .insert(templateBuilds)
        .values({
          id: b.id.toLowerCase(),
          templateNamespace: b.template.namespace,
          templateName: b.template.name,
          version: b.version,
          vmid: b.vmid ?? null,
          node: b.node ?? null,
          taskUpid: b.taskUpid ?? null,
          startedAt,
        })
        .onConflictDoNothing({ target: templateBuilds.id }),
    );
  }

  async recordTemplateBuildFinished(f: TemplateBuildFinished): Promise<FinishOutcome> {
    if (!isUuid(f.id)) return 'not-found';
    const finishedAt = requireDate(f.finishedAt, 'finishedAt');
    const id = f.id.toLowerCase();
    return this.tx(async (tx) => {
      const [row] = await tx.select({ finishedAt: templateBuilds.finishedAt }).from(templateBuilds).where(eq(templateBuilds.id, id));
      if (!row) return 'not-found';
      if (row.finishedAt) return 'already-finished';
      const set: Partial<typeof templateBuilds.$inferInsert> = { finishedAt, result: f.result, failureReason: clean(f.failureReason) };
      if (f.checksum !== undefined) set.checksum = f.checksum;
      if (f.vmid !== undefined) set.vmid = f.vmid;
      if (f.taskUpid !== undefined) set.taskUpid = f.taskUpid;
      await tx.update(templateBuilds).set(set).where(eq(templateBuilds.id, id));
      return 'updated';
    });
  }

  async getInstallation(id: string): Promise<Installation | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.tx((tx) => tx.select().from(installations).where(eq(installations.id, id.toLowerCase())), true);
    return row ? toInstallation(row) : undefined;
  }

  async listInstallations(host: HostKey, page?: PageRequest): Promise<Page<Installation>> {
    const limit = pageLimit(page);
    const c = decodeCursor(page?.cursor, 2);
    const t = installations;
    const rows = await this.tx(
      (tx) =>
        tx
          .select()
          .from(t)
          .where(and(eq(t.hostNamespace, host.namespace), eq(t.hostName, host.name), c ? before(t.startedAt, t.id, c) : undefined))
          .orderBy(desc(t.startedAt), desc(t.id))
          .limit(limit + 1),
      true,
    );
    return toPage(rows.map(toInstallation), limit, (i) => [i.startedAt.toISOString(), i.id]);
  }

  async listInstallerEvents(installationId: string, page?: PageRequest): Promise<Page<StoredInstallerEvent>> {
    const limit = pageLimit(page);
    const c = decodeCursor(page?.cursor, 3);
    if (!isUuid(installationId)) return { items: [] };
    const e = installerEvents;
    const after = c
      ? or(
          gt(e.eventTime, c.times[0]!),
          and(eq(e.eventTime, c.times[0]!), or(gt(e.receivedAt, c.times[1]!), and(eq(e.receivedAt, c.times[1]!), gt(e.id, c.id)))),
        )
      : undefined;
    const rows = await this.tx(
      (tx) =>
        tx
          .select()
          .from(e)
          .where(and(eq(e.installationId, installationId.toLowerCase()), after))
          .orderBy(asc(e.eventTime), asc(e.receivedAt), asc(e.id))
          .limit(limit + 1),
      true,
    );
    return toPage(rows.map(toEvent), limit, (x) => [x.eventTime.toISOString(), x.receivedAt.toISOString(), x.id]);
  }

  async listFailures(query: { since: Date; namespace?: string }, page?: PageRequest): Promise<Page<Installation>> {
    const limit = pageLimit(page);
    const c = decodeCursor(page?.cursor, 2);
    const t = installations;
    const rows = await this.tx(
      (tx) =>
        tx
          .select()
          .from(t)
          .where(
            and(
              eq(t.result, 'FAIL'),
              gte(t.finishReceivedAt, query.since),
              query.namespace !== undefined ? eq(t.hostNamespace, query.namespace) : undefined,
              c ? before(t.finishReceivedAt, t.id, c) : undefined,
            ),
          )
          .orderBy(desc(t.finishReceivedAt), desc(t.id))
          .limit(limit + 1),
      true,
    );
    return toPage(rows.map(toInstallation), limit, (i) => [i.finishReceivedAt!.toISOString(), i.id]);
  }

  async installStats(window: { since: Date; until?: Date }): Promise<InstallStats> {
    const since = window.since;
    const until = window.until ?? new Date();
    const t = installations;
    const inWindow = and(gte(t.finishedAt, since), lt(t.finishedAt, until));
    const counts = {
      total: sql<string>`count(*)`,
      succeeded: sql<string>`sum(CASE WHEN ${t.result} = 'SUCCESS' THEN 1 ELSE 0 END)`,
      failed: sql<string>`sum(CASE WHEN ${t.result} = 'FAIL' THEN 1 ELSE 0 END)`,
      cancelled: sql<string>`sum(CASE WHEN ${t.result} = 'CANCELLED' THEN 1 ELSE 0 END)`,
    };
    const pct = {
      p50: sql<number | string | null>`percentile_cont(0.5) WITHIN GROUP (ORDER BY ${t.durationSeconds})`,
      p95: sql<number | string | null>`percentile_cont(0.95) WITHIN GROUP (ORDER BY ${t.durationSeconds})`,
    };
    const succeededInWindow = and(inWindow, eq(t.result, 'SUCCESS'), sql`${t.durationSeconds} IS NOT NULL`);
    const { perTemplate, overall, pctPerTemplate, pctOverall } = await this.tx(async (tx) => ({
      perTemplate: await tx.select({ template: t.templateName, ...counts }).from(t).where(inWindow).groupBy(t.templateName),
      overall: await tx.select(counts).from(t).where(inWindow),
      pctPerTemplate: await tx.select({ template: t.templateName, ...pct }).from(t).where(succeededInWindow).groupBy(t.templateName),
      pctOverall: await tx.select(pct).from(t).where(succeededInWindow),
    }), true);
    const stat = (c: { total: unknown; succeeded: unknown; failed: unknown; cancelled: unknown } | undefined, p: { p50: unknown; p95: unknown } | undefined) => {
      const succeeded = num(c?.succeeded);
      const failed = num(c?.failed);
      return {
        total: num(c?.total),
        succeeded,
        failed,
        cancelled: num(c?.cancelled),
        successRate: succeeded + failed ? succeeded / (succeeded + failed) : null,
        p50DurationSeconds: numOrNull(p?.p50),
        p95DurationSeconds: numOrNull(p?.p95),
      };
    };
    const templates: TemplateStats[] = perTemplate
      .map((c) => ({ template: c.template, ...stat(c, pctPerTemplate.find((p) => p.template === c.template)) }))
      .sort((a, b) => (a.template ?? '').localeCompare(b.template ?? ''));
    return { since, until, overall: stat(overall[0], pctOverall[0]), templates };
  }

  async listBootRequests(mac: string, page?: PageRequest): Promise<Page<BootRequest>> {
    const limit = pageLimit(page);
    const c = decodeCursor(page?.cursor, 2);
    const b = bootRequests;
    const rows = await this.tx(
      (tx) =>
        tx
          .select()
          .from(b)
          .where(and(eq(b.mac, normalizeMac(mac)), c ? before(b.time, b.id, c) : undefined))
          .orderBy(desc(b.time), desc(b.id))
          .limit(limit + 1),
      true,
    );
    const items = rows.map((r) => ({
      id: r.id,
      time: r.time,
      mac: r.mac,
      clientIp: r.clientIp,
      path: r.path,
      served: r.served,
      host: r.hostNamespace !== null && r.hostName !== null ? { namespace: r.hostNamespace, name: r.hostName } : null,
      installationId: r.installationId,
    }));
    return toPage(items, limit, (x) => [x.time.toISOString(), x.id]);
  }

  async listDiscovered(page?: PageRequest): Promise<Page<DiscoveredMachine>> {
    const limit = pageLimit(page);
    const c = decodeCursor(page?.cursor, 2);
    const d = discoveredMachines;
    const rows = await this.tx(
      (tx) =>
        tx
          .select()
          .from(d)
          .where(c ? before(d.lastSeen, d.id, c) : undefined)
          .orderBy(desc(d.lastSeen), desc(d.id))
          .limit(limit + 1),
      true,
    );
    return toPage(rows, limit, (x) => [x.lastSeen.toISOString(), x.id]);
  }

  async listTemplateBuilds(template: HostKey, page?: PageRequest): Promise<Page<TemplateBuild>> {
    const limit = pageLimit(page);
    const c = decodeCursor(page?.cursor, 2);
    const b = templateBuilds;
    const rows = await this.tx(
      (tx) =>
        tx
          .select()
          .from(b)
          .where(and(eq(b.templateNamespace, template.namespace), eq(b.templateName, template.name), c ? before(b.startedAt, b.id, c) : undefined))
          .orderBy(desc(b.startedAt), desc(b.id))
          .limit(limit + 1),
      true,
    );
    return toPage(rows.map(toBuild), limit, (x) => [x.startedAt.toISOString(), x.id]);
  }

  async prune(olderThan: Date): Promise<PruneResult> {
    const result: PruneResult = { installerEvents: 0, bootRequests: 0 };
    // Bounded deletes: one huge DELETE is a huge transaction (CockroachDB limits those, PostgreSQL bloats).
    for (;;) {
      const n = await this.tx(async (tx) => {
        const ids = tx.select({ id: installerEvents.id }).from(installerEvents).where(lt(installerEvents.receivedAt, olderThan)).limit(PRUNE_CHUNK);
        return (await tx.delete(installerEvents).where(inArray(installerEvents.id, ids)).returning({ id: installerEvents.id })).length;
      });
      result.installerEvents += n;
      if (n < PRUNE_CHUNK) break;
    }
    for (;;) {
      const n = await this.tx(async (tx) => {
        const ids = tx.select({ id: bootRequests.id }).from(bootRequests).where(lt(bootRequests.time, olderThan)).limit(PRUNE_CHUNK);
        return (await tx.delete(bootRequests).where(inArray(bootRequests.id, ids)).returning({ id: bootRequests.id })).length;
      });
      result.bootRequests += n;
      if (n < PRUNE_CHUNK) break;
    }
    this.log?.info({ olderThan: olderThan.toISOString(), ...result }, 'history pruned');
    return result;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
