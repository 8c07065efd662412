// The failures view's data: failed installs the server received in a window, across the namespaces the user may
// list, grouped by failed stage and reason, most frequent first, each group with its most recent hosts.
import { parseDuration } from '@anvil/core/history-api';
import type { Installation } from '@anvil/core/db';
import type { Authorizer, HistoryReader, UserInfo } from './ports.js';

const MAX_FAILURES = 5000;
const HOSTS_PER_GROUP = 10;

export interface FailureGroup {
  stage: string;
  reason: string;
  count: number;
  latest: string;
  /** The most recent failed attempts of this group. */
  attempts: { namespace: string; name: string; attempt: number; installationId: string; finishedAt: string }[];
}

export interface FailureReport {
  since: string;
  total: number;
  /** More failures than were read (the oldest were left out). */
  truncated: boolean;
  groups: FailureGroup[];
}

/** "24h", "7d"... -> the start of the window; throws an Error with a message for the user. */
export function sinceOf(value: unknown, now: Date): Date {
  if (value === undefined) return new Date(now.getTime() - 7 * 86_400_000);
  if (typeof value !== 'string') throw new Error('since must be given once');
  return new Date(now.getTime() - parseDuration(value, 'since') * 1000);
}

async function readFailures(history: HistoryReader, since: Date): Promise<{ items: Installation[]; truncated: boolean }> {
  const items: Installation[] = [];
  let cursor: string | undefined;
  do {
    const page = await history.listFailures({ since }, { limit: 1000, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < MAX_FAILURES);
  return { items, truncated: cursor !== undefined };
}

export async function failureReport(history: HistoryReader, authorizer: Authorizer, user: UserInfo, since: Date): Promise<FailureReport> {
  const { items, truncated } = await readFailures(history, since);
  const namespaces = [...new Set(items.map((i) => i.host.namespace))];
  const all = await authorizer.mayListHosts(user, undefined);
  const answers = all ? [] : await Promise.all(namespaces.map((ns) => authorizer.mayListHosts(user, ns)));
  const allowed = new Set(all ? namespaces : namespaces.filter((_, k) => answers[k]));
  const groups = new Map<string, FailureGroup>();
  let total = 0;
  for (const i of items) {
    if (!allowed.has(i.host.namespace)) continue;
    total++;
    const stage = i.failureStage ?? 'unknown';
    const reason = i.failureMessage || i.failureReason || 'no reason recorded';
    const key = `${stage}\n${reason}`;
    const finishedAt = (i.finishReceivedAt ?? i.finishedAt ?? i.startedAt).toISOString();
    const group = groups.get(key) ?? groups.set(key, { stage, reason, count: 0, latest: finishedAt, attempts: [] }).get(key)!;
    group.count++;
    if (finishedAt > group.latest) group.latest = finishedAt;
    if (group.attempts.length < HOSTS_PER_GROUP) group.attempts.push({ namespace: i.host.namespace, name: i.host.name, attempt: i.attempt, installationId: i.id, finishedAt });
  }
  return { since: since.toISOString(), total, truncated, groups: [...groups.values()].sort((a, b) => b.count - a.count || (a.latest < b.latest ? 1 : -1)) };
}
