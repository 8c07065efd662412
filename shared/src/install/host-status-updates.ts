// The status updates the boot-server makes on a BareMetalHost: boot requests seen and installer events received.
// They are JSON patches guarded by a `test` of the installation id, so an event from an attempt the operator has
// already replaced can never be attributed to the new one.
import type { InstallerEvent } from './installer-events.js';
import { eventTime, progressOf, stageOf, verdictOf } from './installer-events.js';

export type JsonPatchOp = { op: 'test' | 'add' | 'replace' | 'remove'; path: string; value?: unknown };

export interface BootRequestRecord {
  time: string;
  clientIP: string;
  path: string;
  served: string;
}

export function bootRequestPatch(record: BootRequestRecord, hasStatus: boolean): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  if (!hasStatus) ops.push({ op: 'add', path: '/status', value: {} });
  ops.push({ op: 'add', path: '/status/lastBootRequest', value: record });
  return ops;
}

/** Ops that record `event` on the attempt `installationId`; the patch fails (422) if that attempt is no longer current. */
export function installerEventPatch(installationId: string, event: InstallerEvent, now: Date = new Date()): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [{ op: 'test', path: '/status/currentInstall/installationId', value: installationId }];
  const lastEvent: Record<string, unknown> = {
    name: event.name.slice(0, 512),
    type: ['start', 'finish', 'info', 'warning', 'error', 'log'].includes(event.event_type) ? event.event_type : 'log',
    time: eventTime(event, now),
  };
  if (event.result) lastEvent.result = event.result;
  if (event.description) lastEvent.description = event.description.slice(0, 1024);
  ops.push({ op: 'add', path: '/status/currentInstall/lastEvent', value: lastEvent });
  const stage = stageOf(event);
  if (stage) {
    ops.push({ op: 'add', path: '/status/currentInstall/phase', value: stage });
    ops.push({ op: 'add', path: '/status/currentInstall/progress', value: progressOf(stage) });
  }
  const verdict = verdictOf(event);
  if (verdict) {
    ops.push({ op: 'add', path: '/status/currentInstall/result', value: verdict });
    ops.push({ op: 'add', path: '/status/currentInstall/finishedAt', value: eventTime(event, now) });
  }
  return ops;
}
