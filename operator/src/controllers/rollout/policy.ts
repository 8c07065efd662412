// The template's spec.rollout as the rollout core's policies (defaults as documented in the CRD).
import type { AutoinstallTemplate } from '@anvil/core/api';
import type { GatePolicy, HealthCheck, HealthPolicy, MaintenanceWindow, RolloutPolicy } from '../../rollout/index.js';

type Spec = NonNullable<AutoinstallTemplate['spec']['rollout']>;

export function rolloutPolicy(spec: Spec): RolloutPolicy {
  return {
    batchSize: spec.batchSize ?? 1,
    pauseSeconds: spec.pauseSeconds ?? 0,
    windows: (spec.maintenanceWindows ?? []).map((w): MaintenanceWindow => ({ schedule: w.schedule, durationMinutes: w.durationMinutes, timeZone: w.timeZone ?? 'UTC' })),
    failureThreshold: spec.failureThreshold ?? 1,
    healthTimeoutSeconds: spec.healthTimeoutSeconds ?? 3600,
    maxRollbacks: spec.maxRollbacks ?? 1,
    rollbackWindowSeconds: spec.rollbackWindowSeconds ?? 86400,
  };
}

export const gatePolicy = (spec: Spec): GatePolicy => ({ autoApproveChangesUpTo: spec.autoApproveChangesUpTo ?? 'packages' });

export function healthChecks(spec: Spec): HealthCheck[] {
  return (spec.healthChecks ?? []).map((c): HealthCheck =>
    c.tcp
      ? { kind: 'tcp', port: c.tcp.port }
      : { kind: 'http', port: c.http!.port, path: c.http!.path ?? '/', scheme: c.http!.https ? 'https' : 'http', insecureSkipTLSVerify: true, expectStatus: c.http!.expectStatus ?? 200, ...(c.http!.bodyContains !== undefined ? { bodyContains: c.http!.bodyContains } : {}) },
  );
}

/** The health verdict's timing: the timeout counts from the install's end; probes retried from every 5 s. */
export const healthPolicy = (spec: Spec): HealthPolicy => ({ timeoutSeconds: spec.healthTimeoutSeconds ?? 3600, monitorSeconds: spec.monitorSeconds ?? 0, intervalSeconds: 5 });
