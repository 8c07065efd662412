// Rolling: the current wave installs and is health-checked. Too many failures halt the rollout and roll the failed
// hosts back; a verified wave pauses before the next, and the last one completes the rollout.
import type { PhaseHandler } from '../types.js';
import { hostsOf, msUntil, stay, verdictOf } from '../waves.js';
import { startRollback } from './rolling-back.js';

export const rolling: PhaseHandler = (snap, status) => {
  const target = status.targetRevision!;
  const keys = status.waves[status.wave] ?? [];
  const verdicts = hostsOf(snap, keys).map((h) => ({ key: h.key, verdict: verdictOf(h, target, snap) }));
  const failed = verdicts.filter((v) => v.verdict === 'failed').map((v) => v.key);
  if (failed.length >= snap.policy.failureThreshold) return startRollback(snap, { ...status, failedHosts: [...new Set([...status.failedHosts, ...failed])] }, failed);
  if (verdicts.some((v) => v.verdict === 'pending')) return stay(status, snap.policy.healthTimeoutSeconds * 1000);

  const failedHosts = [...new Set([...status.failedHosts, ...failed])];
  const verified = { type: 'WaveVerified' as const, message: `wave ${status.wave + 1} of ${status.waves.length} verified: ${keys.length - failed.length} healthy, ${failed.length} failed`, hosts: keys };
  if (status.wave + 1 >= status.waves.length) {
    return {
      status: { ...status, phase: 'Completed', failedHosts, message: `revision ${target} rolled out to every host${failedHosts.length ? ` (${failedHosts.length} failed below the threshold)` : ''}` },
      actions: [],
      audit: [verified, { type: 'RolloutCompleted', message: `revision ${target} rolled out in ${status.waves.length} wave(s)` }],
    };
  }
  const pauseUntil = new Date(snap.now.getTime() + snap.policy.pauseSeconds * 1000).toISOString();
  return {
    status: { ...status, phase: 'Paused', failedHosts, pauseUntil, message: `wave ${status.wave + 1} of ${status.waves.length} verified; the next starts after ${pauseUntil}` },
    actions: [],
    audit: [verified],
    requeueAfterMs: msUntil(pauseUntil, snap.now),
  };
};
