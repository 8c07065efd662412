// Helpers the phases share: planning waves, reading a wave's hosts, and outcomes.
import type { HostView, RolloutSnapshot, RolloutStatus, StepOutcome } from './types.js';

/** Hosts needing the target revision, in the snapshot's order, cut into waves of batchSize. */
export function planWaves(hosts: readonly HostView[], target: string, batchSize: number): string[][] {
  const keys = hosts.filter((h) => h.revision !== target).map((h) => h.key);
  const size = Math.max(1, Math.floor(batchSize));
  const waves: string[][] = [];
  for (let i = 0; i < keys.length; i += size) waves.push(keys.slice(i, i + size));
  return waves;
}

export const hostsOf = (snap: RolloutSnapshot, keys: readonly string[]): HostView[] =>
  keys.map((k) => snap.hosts.find((h) => h.key === k)).filter((h): h is HostView => h !== undefined);

export const stay = (status: RolloutStatus, requeueAfterMs?: number): StepOutcome => ({ status, actions: [], audit: [], ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) });

export const msUntil = (iso: string | undefined, now: Date): number => (iso ? Math.max(0, Date.parse(iso) - now.getTime()) : 0);

/** A host of the current wave that timed out: installing or waiting for health past the policy's timeout. */
export function timedOut(host: HostView, snap: RolloutSnapshot): boolean {
  if (!host.installStartedAt) return false;
  return snap.now.getTime() - Date.parse(host.installStartedAt) > snap.policy.healthTimeoutSeconds * 1000;
}

/** failed: the install failed, health failed, or no verdict in time; passed: installed and healthy. */
export function verdictOf(host: HostView, target: string, snap: RolloutSnapshot): 'passed' | 'failed' | 'pending' {
  if (host.revision !== target) return 'pending';
  if (host.install === 'failed' || host.health === 'failed') return 'failed';
  if (host.install === 'installed' && host.health === 'passed') return 'passed';
  return timedOut(host, snap) ? 'failed' : 'pending';
}
