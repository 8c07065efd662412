// The rollout core's status (operator/src/rollout) and the template's status.rollout, each way. The core keys hosts
// by name (a rollout never leaves its template's namespace) and revisions by content hash; the API also shows the
// revision numbers people use.
import type { AutoinstallTemplate, AutoinstallTemplateStatus } from '@anvil/core/api';
import { idleStatus, type AuditRecord, type RolloutStatus } from '../../rollout/index.js';

export type ApiRolloutStatus = NonNullable<AutoinstallTemplateStatus['rollout']>;
type Revisions = NonNullable<AutoinstallTemplateStatus['revisions']>;

/** How many decisions status.rollout.audit keeps. */
export const MAX_AUDIT = 50;

export function fromApi(api: ApiRolloutStatus | undefined): RolloutStatus {
  if (!api?.phase) return idleStatus();
  return {
    phase: api.phase,
    ...(api.targetContentHash ? { targetRevision: api.targetContentHash } : {}),
    ...(api.previousContentHash ? { previousRevision: api.previousContentHash } : {}),
    waves: (api.waves ?? []).map((w) => [...w.hosts]),
    wave: api.wave ?? 0,
    ...(api.waveStartedAt ? { waveStartedAt: api.waveStartedAt } : {}),
    ...(api.pauseUntil ? { pauseUntil: api.pauseUntil } : {}),
    failedHosts: [...(api.failedHosts ?? [])],
    rollbacks: Object.fromEntries((api.rollbacks ?? []).map((r) => [r.host, [...r.times]])),
    message: api.message ?? '',
  };
}

const numberOf = (revisions: Revisions, hash: string | undefined): number | undefined => (hash ? revisions.find((r) => r.contentHash === hash)?.revision : undefined);

/** The API's status.rollout for the core's status, keeping the health entries and the newest decisions. */
export function toApi(core: RolloutStatus, template: AutoinstallTemplate, extras: { change?: string[]; health: ApiRolloutStatus['health']; audit: NonNullable<ApiRolloutStatus['audit']> }): ApiRolloutStatus {
  const revisions = template.status?.revisions ?? [];
  const target = numberOf(revisions, core.targetRevision);
  const previous = numberOf(revisions, core.previousRevision);
  return {
    phase: core.phase,
    ...(target !== undefined ? { targetRevision: target } : {}),
    ...(core.targetRevision ? { targetContentHash: core.targetRevision } : {}),
    ...(previous !== undefined ? { previousRevision: previous } : {}),
    ...(core.previousRevision ? { previousContentHash: core.previousRevision } : {}),
    ...(extras.change ? { change: extras.change } : {}),
    waves: core.waves.map((hosts) => ({ hosts })),
    wave: core.wave,
    ...(core.waveStartedAt ? { waveStartedAt: core.waveStartedAt } : {}),
    ...(core.pauseUntil ? { pauseUntil: core.pauseUntil } : {}),
    failedHosts: core.failedHosts,
    rollbacks: Object.entries(core.rollbacks).filter(([, times]) => times.length).map(([host, times]) => ({ host, times })),
    ...(extras.health?.length ? { health: extras.health } : {}),
    message: core.message.slice(0, 4096),
    audit: extras.audit.slice(0, MAX_AUDIT),
  };
}

export const auditEntries = (records: readonly AuditRecord[], now: Date): NonNullable<ApiRolloutStatus['audit']> =>
  records.map((r) => ({ time: now.toISOString().replace(/\.\d+Z$/, 'Z'), type: r.type, message: r.message.slice(0, 1024), ...(r.hosts?.length ? { hosts: r.hosts.slice(0, 256) } : {}) }));
