// Install statistics in SQL: counts by result and duration percentiles, overall and per template, over a window.
import { and, eq, gte, lt, sql } from 'drizzle-orm';
import type { InstallStats, TemplateStats } from '../history-store.js';
import { installations } from '../schema.js';
import type { SqlContext } from './context.js';

const num = (v: unknown): number => Number(v ?? 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

type Counts = { total: unknown; succeeded: unknown; failed: unknown; cancelled: unknown };
type Percentiles = { p50: unknown; p95: unknown };

function stat(c: Counts | undefined, p: Percentiles | undefined): Omit<TemplateStats, 'template'> {
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
}

export async function installStats(ctx: SqlContext, window: { since: Date; until?: Date }): Promise<InstallStats> {
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
  const { perTemplate, overall, pctPerTemplate, pctOverall } = await ctx.tx(
    async (tx) => ({
      perTemplate: await tx.select({ template: t.templateName, ...counts }).from(t).where(inWindow).groupBy(t.templateName),
      overall: await tx.select(counts).from(t).where(inWindow),
      pctPerTemplate: await tx.select({ template: t.templateName, ...pct }).from(t).where(succeededInWindow).groupBy(t.templateName),
      pctOverall: await tx.select(pct).from(t).where(succeededInWindow),
    }),
    true,
  );
  const templates: TemplateStats[] = perTemplate
    .map((c) => ({ template: c.template, ...stat(c, pctPerTemplate.find((p) => p.template === c.template)) }))
    .sort((a, b) => (a.template ?? '').localeCompare(b.template ?? ''));
  return { since, until, overall: stat(overall[0], pctOverall[0]), templates };
}
