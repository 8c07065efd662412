// Install statistics in memory, computed as the SQL store's queries compute them (percentile_cont included).
import type { InstallStats, Installation, TemplateStats } from '../history-store.js';
import { percentileCont } from '../store-util.js';

function stat(rs: readonly Installation[]): Omit<TemplateStats, 'template'> {
  const succeeded = rs.filter((r) => r.result === 'SUCCESS').length;
  const failed = rs.filter((r) => r.result === 'FAIL').length;
  const durations = rs
    .filter((r) => r.result === 'SUCCESS' && r.durationSeconds !== null)
    .map((r) => r.durationSeconds!)
    .sort((a, b) => a - b);
  return {
    total: rs.length,
    succeeded,
    failed,
    cancelled: rs.filter((r) => r.result === 'CANCELLED').length,
    successRate: succeeded + failed ? succeeded / (succeeded + failed) : null,
    p50DurationSeconds: percentileCont(durations, 0.5),
    p95DurationSeconds: percentileCont(durations, 0.95),
  };
}

export function installStats(all: Iterable<Installation>, window: { since: Date; until?: Date }): InstallStats {
  const since = window.since;
  const until = window.until ?? new Date();
  const rows = [...all].filter((i) => i.finishedAt && i.finishedAt >= since && i.finishedAt < until);
  const names = [...new Set(rows.map((r) => r.template.name))].sort((a, b) => (a ?? '').localeCompare(b ?? ''));
  return { since, until, overall: stat(rows), templates: names.map((template) => ({ template, ...stat(rows.filter((r) => r.template.name === template)) })) };
}
