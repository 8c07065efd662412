// RollingBack: the failed hosts of a halted wave install the revision they had before. A host rolled back too often
// within the policy's window stops the rollout for a person (loop prevention), with an alert.
import type { PhaseHandler, RolloutSnapshot, RolloutStatus, StepOutcome } from '../types.js';
import { hostsOf, stay, verdictOf } from '../waves.js';

export function startRollback(snap: RolloutSnapshot, status: RolloutStatus, hosts: readonly string[]): StepOutcome {
  const halted = { type: 'RolloutHalted' as const, message: `wave ${status.wave + 1}: ${hosts.length} host(s) failed, threshold ${snap.policy.failureThreshold}`, hosts: [...hosts] };
  const rollback = retryRollback(snap, { ...status, phase: 'RollingBack' }, hosts);
  return { ...rollback, audit: [halted, ...rollback.audit] };
}

function retryRollback(snap: RolloutSnapshot, status: RolloutStatus, hosts: readonly string[]): StepOutcome {
  const previous = status.previousRevision;
  if (!previous) return giveUp(status, hosts, 'no previous revision is known to roll back to');
  const since = snap.now.getTime() - snap.policy.rollbackWindowSeconds * 1000;
  const rollbacks = { ...status.rollbacks };
  for (const h of hosts) rollbacks[h] = (rollbacks[h] ?? []).filter((t) => Date.parse(t) >= since);
  const exhausted = hosts.filter((h) => rollbacks[h]!.length >= snap.policy.maxRollbacks);
  if (exhausted.length) return giveUp({ ...status, rollbacks }, exhausted, `rolled back ${snap.policy.maxRollbacks} time(s) within ${snap.policy.rollbackWindowSeconds} s`);
  for (const h of hosts) rollbacks[h] = [...rollbacks[h]!, snap.now.toISOString()];
  return {
    status: { ...status, phase: 'RollingBack', rollbacks, message: `rolling ${hosts.length} host(s) back to revision ${previous}` },
    actions: hosts.map((host) => ({ kind: 'install' as const, host, revision: previous })),
    audit: [{ type: 'RollbackStarted', message: `installing revision ${previous} again`, hosts: [...hosts] }],
    requeueAfterMs: snap.policy.healthTimeoutSeconds * 1000,
  };
}

function giveUp(status: RolloutStatus, hosts: readonly string[], why: string): StepOutcome {
  const message = `rollback stopped for ${hosts.join(', ')}: ${why}; a person must look`;
  return {
    status: { ...status, phase: 'RollbackFailed', message },
    actions: [{ kind: 'alert', reason: 'RollbackFailed', message }],
    audit: [{ type: 'RollbackFailed', message, hosts: [...hosts] }],
  };
}

export const rollingBack: PhaseHandler = (snap, status) => {
  const previous = status.previousRevision!;
  const verdicts = hostsOf(snap, status.failedHosts).map((h) => ({ key: h.key, verdict: verdictOf(h, previous, snap) }));
  const failed = verdicts.filter((v) => v.verdict === 'failed').map((v) => v.key);
  if (failed.length) return retryRollback(snap, status, failed);
  if (verdicts.some((v) => v.verdict === 'pending')) return stay(status, snap.policy.healthTimeoutSeconds * 1000);
  return {
    status: { ...status, phase: 'RolledBack', message: `${status.failedHosts.length} host(s) back on revision ${previous}; revision ${status.targetRevision} is halted until the template changes` },
    actions: [],
    audit: [{ type: 'RolledBack', message: `back on revision ${previous}`, hosts: [...status.failedHosts] }],
  };
};
