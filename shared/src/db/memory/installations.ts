// Installations in memory: a new row from a start, and what the first finish writes into it.
import { normalizeMac } from '../../bootconfig/boot-config.js';
import type { InstallFinished, InstallStarted, Installation, StoredInstallerEvent } from '../history-store.js';
import { finishColumns, isFailureEvidence, MAX_FAILURE_EVENTS, needsDerivedFailure } from '../store-util.js';

export function newInstallation(id: string, i: InstallStarted, startedAt: Date): Installation {
  return {
    id,
    host: { namespace: i.host.namespace, name: i.host.name, uid: i.host.uid },
    mac: normalizeMac(i.mac),
    template: { name: i.template?.name ?? null, contentHash: i.template?.contentHash ?? null, generation: i.template?.generation ?? null },
    revision: i.revision,
    attempt: i.attempt,
    startedAt,
    finishedAt: null,
    finishReceivedAt: null,
    result: null,
    durationSeconds: null,
    failureReason: null,
    failureMessage: null,
    failureStage: null,
  };
}

/** Writes the finish into an unfinished row; `events` are the installation's stored events (the duration and a derived failure come from them). */
export function finishInstallation(row: Installation, f: InstallFinished, at: { finishedAt: Date; receivedAt: Date }, events: readonly StoredInstallerEvent[]): void {
  const earliestEvent = events.reduce<Date | undefined>((min, e) => (!min || e.eventTime < min ? e.eventTime : min), undefined);
  const evidence = needsDerivedFailure(f)
    ? events
        .filter(isFailureEvidence)
        .sort((a, b) => a.eventTime.getTime() - b.eventTime.getTime() || a.receivedAt.getTime() - b.receivedAt.getTime())
        .slice(0, MAX_FAILURE_EVENTS)
    : undefined;
  Object.assign(row, finishColumns(f, { ...at, startedAt: row.startedAt, earliestEvent }, evidence));
}
