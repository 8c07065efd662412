// A host's health after its install, over time: probed until every check passes, then watched for a monitoring window
// in which every probe must keep passing. A check that never passes within the timeout, or that fails during the
// window, fails the host. Retries back off (interval doubling, capped) while the host is still coming up.
import type { ProbeResult } from './probes.js';

export interface HealthPolicy {
  /** Seconds after the install finished within which every check must pass. */
  timeoutSeconds: number;
  /** Seconds every check must keep passing after the first full pass. */
  monitorSeconds: number;
  /** Seconds between probes while monitoring, and the first retry delay before that. */
  intervalSeconds: number;
}

export interface HealthState {
  verdict: 'pending' | 'passed' | 'failed';
  /** When the install finished: the timeout counts from here. */
  since: string;
  /** The first time every check passed. */
  passingSince?: string;
  /** Failed rounds before the first pass, for the backoff. */
  failures: number;
  message: string;
}

export interface HealthStep {
  state: HealthState;
  /** When to probe again; undefined once there is a verdict. */
  probeAgainInMs?: number;
}

const MAX_BACKOFF_MS = 60_000;

export const startHealth = (installFinishedAt: Date): HealthState => ({ verdict: 'pending', since: installFinishedAt.toISOString(), failures: 0, message: 'waiting for the first probe' });

/** One round of probe results (one per check) applied to the state at `now`. */
export function applyProbes(state: HealthState, results: readonly ProbeResult[], now: Date, policy: HealthPolicy): HealthStep {
  if (state.verdict !== 'pending') return { state };
  const failed = results.filter((r) => !r.ok);
  const interval = policy.intervalSeconds * 1000;
  if (failed.length === 0) {
    const passingSince = state.passingSince ?? now.toISOString();
    const watched = now.getTime() - Date.parse(passingSince);
    if (watched >= policy.monitorSeconds * 1000) {
      return { state: { ...state, passingSince, verdict: 'passed', message: `healthy: ${results.map((r) => r.message).join('; ') || 'no checks'}` } };
    }
    return { state: { ...state, passingSince, message: `passing, watched for ${Math.floor(watched / 1000)} of ${policy.monitorSeconds} s` }, probeAgainInMs: Math.min(interval, policy.monitorSeconds * 1000 - watched) };
  }
  const why = failed.map((r) => r.message).join('; ');
  if (state.passingSince) return { state: { ...state, verdict: 'failed', message: `stopped passing during the monitoring window: ${why}` } };
  const elapsed = now.getTime() - Date.parse(state.since);
  if (elapsed >= policy.timeoutSeconds * 1000) return { state: { ...state, verdict: 'failed', message: `not healthy within ${policy.timeoutSeconds} s: ${why}` } };
  const failures = state.failures + 1;
  const backoff = Math.min(interval * 2 ** (failures - 1), MAX_BACKOFF_MS, policy.timeoutSeconds * 1000 - elapsed);
  return { state: { ...state, failures, message: `not healthy yet: ${why}` }, probeAgainInMs: Math.max(1, backoff) };
}
