// AwaitingWindow: the next wave starts inside a maintenance window (or at once without windows): its hosts are told
// to install the target revision.
import { inAnyWindow, nextOpening } from '../maintenance-window.js';
import type { PhaseHandler } from '../types.js';
import { hostsOf, stay } from '../waves.js';

export const awaitingWindow: PhaseHandler = (snap, status) => {
  const { now, policy } = snap;
  if (!inAnyWindow(now, policy.windows)) {
    const opens = nextOpening(now, policy.windows);
    const message = opens ? `wave ${status.wave + 1} of ${status.waves.length} waits for the maintenance window at ${opens.toISOString()}` : 'no maintenance window opens within a year';
    return stay({ ...status, phase: 'AwaitingWindow', message }, opens ? opens.getTime() - now.getTime() : undefined);
  }
  const target = status.targetRevision!;
  const keys = status.waves[status.wave] ?? [];
  const actions = hostsOf(snap, keys)
    .filter((h) => h.revision !== target)
    .map((h) => ({ kind: 'install' as const, host: h.key, revision: target }));
  return {
    status: { ...status, phase: 'Rolling', waveStartedAt: now.toISOString(), message: `wave ${status.wave + 1} of ${status.waves.length}: installing revision ${target} on ${keys.length} host(s)` },
    actions,
    audit: [{ type: 'WaveStarted', message: `wave ${status.wave + 1} of ${status.waves.length} started`, hosts: keys }],
    requeueAfterMs: policy.healthTimeoutSeconds * 1000,
  };
};
