// Idle: every host runs the desired revision, or a new revision just appeared. A new one is judged by the gate and
// cut into waves; which revision the hosts ran before is kept, as what a rollback installs.
import type { PhaseHandler, RolloutStatus } from '../types.js';
import { planWaves, stay } from '../waves.js';
import { awaitingWindow } from './awaiting-window.js';

export const idle: PhaseHandler = (snap, status) => {
  const target = snap.desiredRevision;
  const waves = planWaves(snap.hosts, target, snap.policy.batchSize);
  if (!waves.length) return stay({ ...status, phase: 'Idle', targetRevision: target, message: `every host runs revision ${target}` });
  const previous = mostCommon(snap.hosts.map((h) => h.revision).filter((r): r is string => r !== undefined && r !== target));
  const next: RolloutStatus = {
    ...status,
    targetRevision: target,
    ...(previous ? { previousRevision: previous } : {}),
    waves,
    wave: 0,
    failedHosts: [],
  };
  const audit = [{ type: 'GateVerdict' as const, message: `revision ${target}: ${snap.gate.verdict}, ${snap.gate.reason}` }];
  if (snap.gate.verdict === 'needs-approval') {
    return { status: { ...next, phase: 'AwaitingApproval', message: snap.gate.reason }, actions: [], audit };
  }
  const after = awaitingWindow(snap, { ...next, phase: 'AwaitingWindow' });
  return { ...after, audit: [...audit, ...after.audit] };
};

function mostCommon(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}
