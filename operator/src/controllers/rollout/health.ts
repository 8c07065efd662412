// Health checks after an install, per host of the current wave (or rollback): probed at the host's address (the IP
// its last boot request came from) on the policy's schedule, the verdict kept in status.rollout.health per install.
import type { BareMetalHost } from '@anvil/core/api';
import { applyProbes, startHealth, type HealthCheck, type HealthPolicy, type ProbeResult } from '../../rollout/index.js';
import type { HealthEntry } from './host-views.js';

export type Prober = (address: string, check: HealthCheck, timeoutMs: number) => Promise<ProbeResult>;

const PROBE_TIMEOUT_MS = 5000;

export interface HealthRound {
  entries: HealthEntry[];
  /** When to look again for a probe that is due later. */
  nextInMs?: number;
}

/**
 * The health entries of `hosts` (installed, on the revision they should run) after probing those that are due.
 * Entries of other installs are dropped: a new install starts its checks afresh.
 */
export async function checkHealth(hosts: readonly BareMetalHost[], previous: readonly HealthEntry[], checks: readonly HealthCheck[], policy: HealthPolicy, now: Date, prober: Prober): Promise<HealthRound> {
  const entries: HealthEntry[] = [];
  let nextInMs: number | undefined;
  const soonest = (ms: number) => (nextInMs = nextInMs === undefined ? ms : Math.min(nextInMs, ms));
  await Promise.all(
    hosts.map(async (host) => {
      const ci = host.status?.currentInstall;
      if (!ci?.installationId || checks.length === 0) return;
      const name = host.metadata.name!;
      const known = previous.find((e) => e.host === name && e.installationId === ci.installationId);
      if (known && known.verdict !== 'pending') return void entries.push(known);
      const due = known?.nextProbeAt ? Date.parse(known.nextProbeAt) - now.getTime() : 0;
      if (known && due > 0) {
        entries.push(known);
        return void soonest(due);
      }
      const state = known
        ? { verdict: known.verdict, since: known.since, failures: known.failures, message: known.message, ...(known.passingSince ? { passingSince: known.passingSince } : {}) }
        : startHealth(new Date(ci.finishedAt ?? now.toISOString()));
      const address = host.status?.lastBootRequest?.clientIP;
      const results = address
        ? await Promise.all(checks.map((c) => prober(address, c, PROBE_TIMEOUT_MS)))
        : [{ ok: false, message: 'the host has no known address (no boot request recorded)' }];
      const step = applyProbes(state, results, now, policy);
      const nextProbeAt = step.probeAgainInMs !== undefined ? new Date(now.getTime() + step.probeAgainInMs).toISOString() : undefined;
      if (step.probeAgainInMs !== undefined) soonest(step.probeAgainInMs);
      entries.push({
        host: name,
        installationId: ci.installationId,
        verdict: step.state.verdict,
        since: step.state.since,
        failures: step.state.failures,
        message: step.state.message.slice(0, 1024),
        ...(step.state.passingSince ? { passingSince: step.state.passingSince } : {}),
        ...(nextProbeAt ? { nextProbeAt } : {}),
      });
    }),
  );
  entries.sort((a, b) => a.host.localeCompare(b.host));
  return { entries, ...(nextInMs !== undefined ? { nextInMs } : {}) };
}
