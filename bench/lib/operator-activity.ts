// What the operator did, as the benchmarks observe it from outside: its API requests counted by the API server (the
// audit log, filtered on the operator's User-Agent), and when it went idle (its /metrics).
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { counterSum, type RunningOperator } from './operator.js';

/** Polls the operator's /metrics until its work queues are empty and no reconcile ran for 3 s; returns when it last worked. */
export async function untilIdle(operator: RunningOperator, deadline: number, what: string): Promise<{ idleAt: number; reconciles: number }> {
  let reconciles = -1;
  let idleAt = performance.now();
  for (let stable = 0; stable < 6; ) {
    if (Date.now() > deadline) throw new Error(`${what}: the operator is still busy (${reconciles} reconciles so far)`);
    const text = await operator.metrics();
    const now = counterSum(text, 'controller_runtime_reconcile_total');
    if (now === reconciles && counterSum(text, 'workqueue_depth') === 0) stable++;
    else [stable, idleAt] = [0, performance.now()];
    reconciles = now;
    await sleep(500);
  }
  return { idleAt, reconciles };
}

/** Requests other than the list and watch each cache starts with. */
export const withoutCacheRequests = (byVerb: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(byVerb).filter(([k]) => !k.startsWith('list ') && !k.startsWith('watch ')));
/** Requests in all. */
export const totalRequests = (byVerb: Record<string, number>): number => Object.values(byVerb).reduce((a, b) => a + b, 0);

/** The operator's requests in the audit log since `offset` (bytes): one per request (a watch counts when it starts). */
export function auditCount(file: string, offset: number): { total: number; byVerb: Record<string, number>; end: number } {
  const buf = readFileSync(file);
  const byVerb: Record<string, number> = {};
  let total = 0;
  for (const line of buf.subarray(offset).toString('utf8').split('\n')) {
    if (!line.includes('"anvil-operator"')) continue;
    const e = JSON.parse(line) as { verb: string; stage: string; userAgent?: string; objectRef?: { resource?: string; subresource?: string } };
    if (e.userAgent !== 'anvil-operator') continue;
    if (e.stage !== (e.verb === 'watch' ? 'ResponseStarted' : 'ResponseComplete')) continue;
    const key = `${e.verb} ${e.objectRef?.resource ?? '?'}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`;
    byVerb[key] = (byVerb[key] ?? 0) + 1;
    total++;
  }
  return { total, byVerb, end: buf.length };
}
