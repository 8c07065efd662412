// Rollout decisions in SQL: stored once per id, a template's newest first.
import { and, eq } from 'drizzle-orm';
import type { HostKey, Page, PageRequest, RolloutDecision, RolloutDecisionInput } from '../history-store.js';
import { decisionsNewestFirst } from '../list-orders.js';
import { keysetPage } from '../paging.js';
import { rolloutDecisions } from '../schema.js';
import { HistoryQueryError, isUuid, requireDate } from '../store-util.js';
import type { SqlContext } from './context.js';

const toDecision = (r: typeof rolloutDecisions.$inferSelect): RolloutDecision => ({
  id: r.id,
  template: { namespace: r.templateNamespace, name: r.templateName },
  time: r.time,
  type: r.type,
  message: r.message,
  revision: r.revision === null ? null : Number(r.revision),
  hosts: [...(r.hosts ?? [])],
  trigger: r.trigger,
});

export function decisionRow(d: RolloutDecisionInput): typeof rolloutDecisions.$inferInsert {
  if (!isUuid(d.id)) throw new HistoryQueryError(`rollout decision id must be a UUID: ${d.id}`);
  return {
    id: d.id.toLowerCase(),
    templateNamespace: d.template.namespace,
    templateName: d.template.name,
    time: requireDate(d.time, 'time'),
    type: d.type,
    message: d.message,
    revision: d.revision ?? null,
    hosts: [...(d.hosts ?? [])],
    trigger: d.trigger,
  };
}

export async function recordRolloutDecisions(ctx: SqlContext, decisions: readonly RolloutDecisionInput[]): Promise<void> {
  if (!decisions.length) return;
  const rows = decisions.map(decisionRow);
  await ctx.tx((tx) => tx.insert(rolloutDecisions).values(rows).onConflictDoNothing({ target: rolloutDecisions.id }));
}

export function listRolloutDecisions(ctx: SqlContext, template: HostKey, page?: PageRequest): Promise<Page<RolloutDecision>> {
  const d = rolloutDecisions;
  return keysetPage(page, decisionsNewestFirst, [d.time, d.id], async ({ after, orderBy, limit }) => {
    const rows = await ctx.tx((tx) => tx.select().from(d).where(and(eq(d.templateNamespace, template.namespace), eq(d.templateName, template.name), after)).orderBy(...orderBy).limit(limit), true);
    return rows.map(toDecision);
  });
}
