// ProxmoxTemplate builds in SQL: a start, the first finish, and a template's builds newest first.
import { and, eq } from 'drizzle-orm';
import type { FinishOutcome, HostKey, Page, PageRequest, TemplateBuild, TemplateBuildFinished, TemplateBuildStarted } from '../history-store.js';
import { buildsNewestFirst } from '../list-orders.js';
import { keysetPage } from '../paging.js';
import { templateBuilds } from '../schema.js';
import { buildFinishColumns, HistoryQueryError, isUuid, requireDate } from '../store-util.js';
import type { SqlContext } from './context.js';

const toBuild = (r: typeof templateBuilds.$inferSelect): TemplateBuild => ({
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

export async function recordTemplateBuildStarted(ctx: SqlContext, b: TemplateBuildStarted): Promise<void> {
  if (!isUuid(b.id)) throw new HistoryQueryError(`template build id must be a UUID: ${b.id}`);
  const startedAt = requireDate(b.startedAt, 'startedAt');
  await ctx.tx((tx) =>
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

export async function recordTemplateBuildFinished(ctx: SqlContext, f: TemplateBuildFinished): Promise<FinishOutcome> {
  if (!isUuid(f.id)) return 'not-found';
  const finishedAt = requireDate(f.finishedAt, 'finishedAt');
  const id = f.id.toLowerCase();
  return ctx.tx(async (tx) => {
    const [row] = await tx.select({ finishedAt: templateBuilds.finishedAt }).from(templateBuilds).where(eq(templateBuilds.id, id));
    if (!row) return 'not-found';
    if (row.finishedAt) return 'already-finished';
    await tx.update(templateBuilds).set(buildFinishColumns(f, finishedAt)).where(eq(templateBuilds.id, id));
    return 'updated';
  });
}

export function listTemplateBuilds(ctx: SqlContext, template: HostKey, page?: PageRequest): Promise<Page<TemplateBuild>> {
  const b = templateBuilds;
  return keysetPage(page, buildsNewestFirst, [b.startedAt, b.id], async ({ after, orderBy, limit }) => {
    const rows = await ctx.tx((tx) => tx.select().from(b).where(and(eq(b.templateNamespace, template.namespace), eq(b.templateName, template.name), after)).orderBy(...orderBy).limit(limit), true);
    return rows.map(toBuild);
  });
}
