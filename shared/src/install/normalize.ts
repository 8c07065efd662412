// Checks and normalises an installer's webhook body BEFORE it is acknowledged: whatever is answered 2xx must be
// storable by every sink (PostgreSQL/CockroachDB text and jsonb, the Kubernetes status), forever. So strings become
// valid UTF-8 without NUL, sizes are bounded and timestamps representable; what cannot be made sense of is refused
// with a message that says what to fix.
import type { InstallerEvent } from './event.js';

export const LIMITS = {
  name: 1024,
  description: 8192,
  short: 64,
  eventType: 32,
  /** JSON nesting of the stored raw body. */
  rawDepth: 8,
  /** Serialized size of the stored raw body (the webhook's body limit is 64 KiB before normalisation). */
  rawBytes: 32 * 1024,
} as const;

/** Latest time any sink can hold (RFC 3339 has four-digit years): 9999-12-31T23:59:59Z. */
export const MAX_TIMESTAMP = 253402300799;

const REPLACEMENT = '\uFFFD';

/** Lone UTF-16 surrogates (not representable in UTF-8) and NUL (refused by PostgreSQL) become U+FFFD. */
export function sanitizeString(s: string): string {
  // toWellFormed replaces lone surrogates; NUL is the one code point PostgreSQL's text and jsonb cannot hold.
  const wellFormed = s.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', REPLACEMENT) : wellFormed;
}

export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  // Never cut a surrogate pair in half.
  let end = max;
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${s.slice(0, end)}… [${s.length - end} characters truncated]`;
}

/** A copy of any JSON value with every string (keys too) sanitised and deep nesting cut off. */
export function sanitizeJson(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return sanitizeString(value);
  if (value === null || typeof value !== 'object') return typeof value === 'number' && !Number.isFinite(value) ? null : value;
  if (depth >= LIMITS.rawDepth) return '[too deeply nested]';
  if (Array.isArray(value)) return value.map((v) => sanitizeJson(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[sanitizeString(k)] = sanitizeJson(v, depth + 1);
  return out;
}

function boundedRaw(body: Record<string, unknown>, event: InstallerEvent): Record<string, unknown> {
  const raw = sanitizeJson(body) as Record<string, unknown>;
  if (typeof raw.description === 'string') raw.description = event.description ?? '';
  if (Buffer.byteLength(JSON.stringify(raw)) <= LIMITS.rawBytes) return raw;
  // Too big to keep verbatim: keep the event itself and say what was left out.
  return { ...event, anvilNote: `raw body of ${Buffer.byteLength(JSON.stringify(raw))} bytes not kept (limit ${LIMITS.rawBytes})`, fields: Object.keys(raw).slice(0, 50) };
}

export type Checked = { event: InstallerEvent; raw: Record<string, unknown> } | { error: string };

const optionalString = (e: Record<string, unknown>, field: string): string | undefined | { error: string } => {
  const v = e[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') return { error: `event "${field}" must be a string, not ${Array.isArray(v) ? 'an array' : typeof v}` };
  return sanitizeString(v);
};

/** Validates a parsed webhook body; returns the normalised event and the sanitised raw body, or a clear error. */
export function checkInstallerEvent(body: unknown): Checked {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: 'event must be a JSON object' };
  const e = body as Record<string, unknown>;
  if (typeof e.name !== 'string' || !e.name.trim()) return { error: 'event "name" must be a non-empty string' };
  if (e.name.length > LIMITS.name) return { error: `event "name" is ${e.name.length} characters long; at most ${LIMITS.name} are accepted` };
  if (typeof e.event_type !== 'string' || !e.event_type) return { error: 'event "event_type" must be a string such as start or finish' };
  if (!/^[A-Za-z_-]+$/.test(e.event_type) || e.event_type.length > LIMITS.eventType)
    return { error: `event "event_type" must be a word of at most ${LIMITS.eventType} letters (start, finish, ...)` };
  if (e.result !== undefined && e.result !== null && !['SUCCESS', 'WARN', 'FAIL'].includes(e.result as string))
    return { error: 'event "result" must be SUCCESS, WARN or FAIL' };
  if (e.timestamp !== undefined && e.timestamp !== null) {
    if (typeof e.timestamp !== 'number' || !Number.isFinite(e.timestamp)) return { error: 'event "timestamp" must be a number: unix time in seconds' };
    if (e.timestamp < 0 || e.timestamp > MAX_TIMESTAMP) return { error: `event "timestamp" ${e.timestamp} is out of range: unix time in seconds between 0 and ${MAX_TIMESTAMP}` };
  }
  const event: InstallerEvent = { name: sanitizeString(e.name), event_type: e.event_type };
  for (const field of ['description', 'origin', 'level'] as const) {
    const v = optionalString(e, field);
    if (typeof v === 'object') return v;
    if (v === undefined) continue;
    event[field] = field === 'description' ? truncate(v, LIMITS.description) : truncate(v, LIMITS.short);
  }
  if (typeof e.result === 'string') event.result = e.result;
  if (typeof e.timestamp === 'number') event.timestamp = e.timestamp;
  return { event, raw: boundedRaw(e, event) };
}

/** The earlier API: just the event. */
export function validateInstallerEvent(body: unknown): { event: InstallerEvent } | { error: string } {
  const checked = checkInstallerEvent(body);
  return 'error' in checked ? checked : { event: checked.event };
}
