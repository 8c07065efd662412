// The status updates the boot-server makes on a BareMetalHost: boot requests seen and installer events received.
// They are JSON patches guarded by a `test` of the installation id, so an event from an attempt the operator has
// already replaced can never be attributed to the new one.
import type { InstallerEvent, InstallFailure, InstallVerdict } from './installer-events.js';
import { deeperFailure, eventTime, failureOf, isNestedFailure, progressOf, stageOf, verdictOf } from './installer-events.js';

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

/** One received event: the installer's event, when it arrived, and whether it came after the installation's verdict. */
export interface ReceivedEvent {
  event: InstallerEvent;
  receivedAt: Date;
  afterVerdict?: boolean;
}

/** What earlier patches of this installation already recorded (kept by the caller between batches). */
export interface InstallationMemory {
  failure?: InstallFailure;
  verdict?: InstallVerdict;
}

const EVENT_TYPES = ['start', 'finish', 'info', 'warning', 'error', 'log'];

function lastEventOf({ event, receivedAt }: ReceivedEvent): Record<string, unknown> {
  const lastEvent: Record<string, unknown> = {
    name: event.name.slice(0, 512),
    type: EVENT_TYPES.includes(event.event_type) ? event.event_type : 'log',
    time: eventTime(event, receivedAt),
    receivedAt: receivedAt.toISOString(),
  };
  if (event.result) lastEvent.result = event.result;
  if (event.description) lastEvent.description = event.description.slice(0, 1024);
  return lastEvent;
}

const failureValue = (f: InstallFailure): Record<string, unknown> => ({ stage: f.stage.slice(0, 64), reason: f.reason.slice(0, 1024), event: f.event.slice(0, 512) });

/**
 * One patch for a batch of an installation's events (in arrival order), and what it leaves recorded:
 * - lastEvent: the newest by the installer's clock (ties: arrival order);
 * - phase/progress: the newest stage reached before the verdict (events after it change no phase);
 * - failure: the deepest FAIL below the top level so far (it marks the install failing, it does not end it);
 * - result/finishedAt: from the top-level finish only (the installer's own verdict), recorded once.
 */
export function installerEventsPatch(installationId: string, events: readonly ReceivedEvent[], memory: InstallationMemory = {}): { ops: JsonPatchOp[]; memory: InstallationMemory } {
  const ops: JsonPatchOp[] = [{ op: 'test', path: '/status/currentInstall/installationId', value: installationId }];
  const next: InstallationMemory = { ...memory };
  if (!events.length) return { ops, memory: next };
  const byTime = events
    .map((r, i) => ({ r, i, t: Date.parse(eventTime(r.event, r.receivedAt)) }))
    .sort((a, b) => a.t - b.t || a.i - b.i);
  ops.push({ op: 'add', path: '/status/currentInstall/lastEvent', value: lastEventOf(byTime.at(-1)!.r) });

  let stage: string | undefined;
  let verdictEvent: ReceivedEvent | undefined;
  let failureChanged = false;
  for (const r of events) {
    if (r.afterVerdict || next.verdict) continue;
    if (isNestedFailure(r.event)) {
      const deeper = deeperFailure(next.failure, failureOf(r.event));
      if (deeper !== next.failure) [next.failure, failureChanged] = [deeper, true];
    }
    const verdict = verdictOf(r.event);
    if (verdict) {
      next.verdict = verdict;
      verdictEvent = r;
      // A top-level FAIL with nothing nested failing explains itself.
      if (verdict === 'FAIL' && !next.failure) [next.failure, failureChanged] = [failureOf(r.event), true];
      continue;
    }
    stage = stageOf(r.event) ?? stage;
  }
  if (failureChanged && next.failure) ops.push({ op: 'add', path: '/status/currentInstall/failure', value: failureValue(next.failure) });
  if (verdictEvent) {
    const stageNow = next.verdict === 'SUCCESS' ? 'complete' : (next.failure?.stage ?? stage);
    if (stageNow) ops.push({ op: 'add', path: '/status/currentInstall/phase', value: stageNow });
    ops.push({ op: 'add', path: '/status/currentInstall/progress', value: next.verdict === 'SUCCESS' ? progressOf('complete') : `failed (${next.failure?.stage ?? 'unknown'})` });
    ops.push({ op: 'add', path: '/status/currentInstall/result', value: next.verdict });
    ops.push({ op: 'add', path: '/status/currentInstall/finishedAt', value: eventTime(verdictEvent.event, verdictEvent.receivedAt) });
  } else if (next.verdict) {
    // decided in an earlier batch: events after the verdict are history, not progress
  } else if (next.failure) {
    ops.push({ op: 'add', path: '/status/currentInstall/phase', value: next.failure.stage });
    ops.push({ op: 'add', path: '/status/currentInstall/progress', value: `failing (${next.failure.stage})`.slice(0, 64) });
  } else if (stage) {
    ops.push({ op: 'add', path: '/status/currentInstall/phase', value: stage });
    ops.push({ op: 'add', path: '/status/currentInstall/progress', value: progressOf(stage) });
  }
  return { ops, memory: next };
}

/** Ops that record one `event` on the attempt `installationId`; the patch fails (422) if that attempt is no longer current. */
export function installerEventPatch(installationId: string, event: InstallerEvent, now: Date = new Date(), memory: InstallationMemory = {}): JsonPatchOp[] {
  return installerEventsPatch(installationId, [{ event, receivedAt: now }], memory).ops;
}
