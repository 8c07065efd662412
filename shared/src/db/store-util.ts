// Input normalization shared by the SQL and in-memory stores, so both behave the same (keyset pages: paging.ts).
import { createHash } from 'node:crypto';
import { normalizeMac } from '../bootconfig/boot-config.js';
import { eventKey, eventTime } from '../install/installer-events.js';
import type { BootRequest, BootRequestInput, InstallFinished, InstallResult, InstallerEventInput, StoredInstallerEvent, TemplateBuild, TemplateBuildFinished, TimeInput } from './history-store.js';
import { deriveFailure } from './derive-failure.js';
import type { TimelineEvent } from './timeline.js';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID_RE.test(s);

/** Bad input to a query (a cursor that was not ours, a limit out of range). The API answers 400. */
export class HistoryQueryError extends Error {
  override name = 'HistoryQueryError';
}

const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A valid Date (ms precision) or undefined. */
export function toDate(t: TimeInput | undefined): Date | undefined {
  if (t === undefined) return undefined;
  const d = t instanceof Date ? new Date(t.getTime()) : new Date(t);
  const ms = d.getTime();
  return Number.isFinite(ms) && ms >= MIN_TIME && ms <= MAX_TIME ? d : undefined;
}

export function requireDate(t: TimeInput, what: string): Date {
  const d = toDate(t);
  if (!d) throw new HistoryQueryError(`${what} is not a valid time: ${String(t)}`);
  return d;
}

const NUL = String.fromCharCode(0);
const stripNul = (s: string): string => s.split(NUL).join('');

/** PostgreSQL text and jsonb refuse NUL characters; an installer could send one. */
export const clean = (s: string | undefined | null): string | null => (s === undefined || s === null ? null : stripNul(s));

export function cleanJson(v: unknown): Record<string, unknown> | null {
  if (v === undefined || v === null) return null;
  try {
    const text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' ? stripNul(x) : x));
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
  } catch {
    return null;
  }
}

export type NormalizedEvent = Omit<StoredInstallerEvent, 'id'>;

/** Valid events, de-duplicated by (installationId, eventKey) keeping the first, and how many were invalid. */
export function normalizeEvents(inputs: readonly InstallerEventInput[]): { events: NormalizedEvent[]; invalid: number } {
  const seen = new Set<string>();
  const events: NormalizedEvent[] = [];
  let invalid = 0;
  for (const input of inputs) {
    const receivedAt = toDate(input.receivedAt);
    const e = input.event;
    if (!isUuid(input.installationId) || !receivedAt || !e || typeof e.name !== 'string' || typeof e.event_type !== 'string') {
      invalid++;
      continue;
    }
    const installationId = input.installationId.toLowerCase();
    const key = clean(input.eventKey ?? eventKey(e))!;
    const dedupe = `${installationId} ${key}`;
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    let time: Date | undefined;
    try {
      time = toDate(eventTime(e, receivedAt));
    } catch {
      time = undefined;
    }
    events.push({
      installationId,
      eventKey: key,
      name: clean(e.name)!,
      eventType: clean(e.event_type)!,
      result: clean(e.result),
      origin: clean(e.origin),
      level: clean(e.level),
      description: clean(e.description),
      eventTime: time ?? receivedAt,
      receivedAt,
      raw: cleanJson(input.raw ?? e),
    });
  }
  return { events, invalid };
}

export type NormalizedBootRequest = Omit<BootRequest, 'host'> & { hostNamespace: string | null; hostName: string | null };

/** A UUID (version 8, RFC 9562 "custom") derived from a request's content: the same request gets the same id. */
export function contentUuid(parts: readonly string[]): string {
  const h = createHash('sha256').update(parts.join('\u0001')).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export function normalizeBootRequests(inputs: readonly BootRequestInput[]): { requests: NormalizedBootRequest[]; invalid: number } {
  const seen = new Set<string>();
  const requests: NormalizedBootRequest[] = [];
  let invalid = 0;
  for (const r of inputs) {
    const time = toDate(r.time);
    if (!time || typeof r.mac !== 'string' || (r.id !== undefined && !isUuid(r.id))) {
      invalid++;
      continue;
    }
    const mac = normalizeMac(clean(r.mac)!);
    const clientIp = clean(r.clientIp ?? '')!;
    const path = clean(r.path ?? '')!;
    const served = clean(r.served ?? '')!;
    const id = (r.id ?? contentUuid([time.toISOString(), mac, clientIp, path, served])).toLowerCase();
    if (seen.has(id)) continue;
    seen.add(id);
    requests.push({
      id,
      time,
      mac,
      clientIp,
      path,
      served,
      hostNamespace: clean(r.host?.namespace),
      hostName: clean(r.host?.name),
      installationId: isUuid(r.installationId) ? r.installationId.toLowerCase() : null,
    });
  }
  return { requests, invalid };
}

/** The stored form of a boot request: the host as one reference, or null when the request named none. */
export function toBootRequest({ hostNamespace, hostName, ...r }: NormalizedBootRequest): BootRequest {
  return { ...r, host: hostNamespace !== null && hostName !== null ? { namespace: hostNamespace, name: hostName } : null };
}

/** percentile_cont: linear interpolation between the closest ranks of sorted values. */
export function percentileCont(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const durationSeconds = (startedAt: Date, finishedAt: Date): number => Math.max(0, Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000));

/** At most this many events are read to derive a failure (the deepest FAIL and the run_curtin_step starts). */
export const MAX_FAILURE_EVENTS = 5000;

/** A FAIL without message or stage gets them from the stored events. */
export const needsDerivedFailure = (f: InstallFinished): boolean => f.result === 'FAIL' && (f.message === undefined || f.failedStage === undefined);

/** The events deriveFailure needs: FAIL finishes, and the starts of run_curtin_step (whose description names the step). */
export const isFailureEvidence = (e: { eventType: string; result: string | null; name: string }): boolean =>
  (e.eventType === 'finish' && e.result === 'FAIL') || (e.eventType === 'start' && e.name.includes('run_curtin_step'));

export interface FinishColumns {
  finishedAt: Date;
  finishReceivedAt: Date;
  result: InstallResult;
  durationSeconds: number;
  failureReason: string | null;
  failureMessage: string | null;
  failureStage: string | null;
}

/**
 * What a finish writes. The duration is measured on the installer's clock at both ends: from its earliest stored
 * event to finishedAt. Without events, or when they are later than finishedAt (a result reported by another clock,
 * e.g. the operator's timeout), it falls back to startedAt (the server's clock).
 */
export function finishColumns(
  f: InstallFinished,
  at: { finishedAt: Date; receivedAt: Date; startedAt: Date; earliestEvent?: Date },
  failureEvidence?: readonly TimelineEvent[],
): FinishColumns {
  const from = at.earliestEvent && at.earliestEvent <= at.finishedAt ? at.earliestEvent : at.startedAt;
  const derived = failureEvidence && needsDerivedFailure(f) ? deriveFailure(failureEvidence) : undefined;
  return {
    finishedAt: at.finishedAt,
    finishReceivedAt: at.receivedAt,
    result: f.result,
    durationSeconds: durationSeconds(from, at.finishedAt),
    failureReason: clean(f.reason),
    failureMessage: clean(f.message ?? derived?.reason),
    failureStage: clean(f.failedStage ?? derived?.stage),
  };
}

/** What a template build's first finish writes: the result, and the facts it reports (the ones it leaves out stay). */
export function buildFinishColumns(f: TemplateBuildFinished, finishedAt: Date): Pick<TemplateBuild, 'finishedAt' | 'result' | 'failureReason'> & Partial<Pick<TemplateBuild, 'checksum' | 'vmid' | 'taskUpid'>> {
  return {
    finishedAt,
    result: f.result,
    failureReason: clean(f.failureReason),
    ...(f.checksum !== undefined && { checksum: f.checksum }),
    ...(f.vmid !== undefined && { vmid: f.vmid }),
    ...(f.taskUpid !== undefined && { taskUpid: f.taskUpid }),
  };
}
