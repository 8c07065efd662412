// Installations in SQL: starts (one or a batch), the first finish (with the failure derived from stored events when
// the installer did not say), and the lists by host and of recent failures.
import { and, asc, eq, gte, isNull, like, or } from 'drizzle-orm';
import { normalizeMac } from '../../bootconfig/boot-config.js';
import type { BatchResult, FinishOutcome, HostKey, InstallFinished, InstallStarted, Installation, Page, PageRequest } from '../history-store.js';
import { failuresNewestFirst, installationsNewestFirst } from '../list-orders.js';
import { keysetPage } from '../paging.js';
import { installations, installerEvents } from '../schema.js';
import { finishColumns, HistoryQueryError, isUuid, MAX_FAILURE_EVENTS, needsDerivedFailure, requireDate, toDate } from '../store-util.js';
import { type SqlContext, warnInvalid, writeInChunks } from './context.js';

type InstallationRow = typeof installations.$inferSelect;

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

export async function recordInstallStarted(ctx: SqlContext, i: InstallStarted): Promise<void> {
  if (!isUuid(i.installationId)) throw new HistoryQueryError(`installationId must be a UUID: ${i.installationId}`);
  const startedAt = requireDate(i.startedAt, 'startedAt');
  await ctx.tx((tx) => tx.insert(installations).values(installationRow(i, startedAt)).onConflictDoNothing({ target: installations.id }));
}

export async function recordInstallsStarted(ctx: SqlContext, inputs: readonly InstallStarted[]): Promise<BatchResult> {
  const rows = new Map<string, typeof installations.$inferInsert>();
  let invalid = 0;
  for (const i of inputs) {
    const startedAt = toDate(i.startedAt);
    if (!isUuid(i.installationId) || !startedAt) invalid++;
    else if (!rows.has(i.installationId.toLowerCase())) rows.set(i.installationId.toLowerCase(), installationRow(i, startedAt));
  }
  warnInvalid(ctx, invalid, 'install starts');
  const inserted = await writeInChunks(ctx, [...rows.values()], (r) => r.id, async (tx, chunk) =>
    (await tx.insert(installations).values(chunk).onConflictDoNothing({ target: installations.id }).returning({ id: installations.id })).length,
  );
  return { inserted, invalid };
}

export async function recordInstallFinished(ctx: SqlContext, f: InstallFinished): Promise<FinishOutcome> {
  if (!isUuid(f.installationId)) return 'not-found';
  const finishedAt = requireDate(f.finishedAt, 'finishedAt');
  const receivedAt = f.receivedAt === undefined ? new Date() : requireDate(f.receivedAt, 'receivedAt');
  const id = f.installationId.toLowerCase();
  const e = installerEvents;
  return ctx.tx(async (tx) => {
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

export async function getInstallation(ctx: SqlContext, id: string): Promise<Installation | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await ctx.tx((tx) => tx.select().from(installations).where(eq(installations.id, id.toLowerCase())), true);
  return row ? toInstallation(row) : undefined;
}

export function listInstallations(ctx: SqlContext, host: HostKey, page?: PageRequest): Promise<Page<Installation>> {
  const t = installations;
  return keysetPage(page, installationsNewestFirst, [t.startedAt, t.id], async ({ after, orderBy, limit }) => {
    const rows = await ctx.tx((tx) => tx.select().from(t).where(and(eq(t.hostNamespace, host.namespace), eq(t.hostName, host.name), after)).orderBy(...orderBy).limit(limit), true);
    return rows.map(toInstallation);
  });
}

export function listFailures(ctx: SqlContext, query: { since: Date; namespace?: string }, page?: PageRequest): Promise<Page<Installation>> {
  const t = installations;
  const failed = and(eq(t.result, 'FAIL'), gte(t.finishReceivedAt, query.since), query.namespace !== undefined ? eq(t.hostNamespace, query.namespace) : undefined);
  return keysetPage(page, failuresNewestFirst, [t.finishReceivedAt, t.id], async ({ after, orderBy, limit }) => {
    const rows = await ctx.tx((tx) => tx.select().from(t).where(and(failed, after)).orderBy(...orderBy).limit(limit), true);
    return rows.map(toInstallation);
  });
}
