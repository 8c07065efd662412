import { checkInstallerEvent, LIMITS, MAX_TIMESTAMP, sanitizeString } from './normalize.js';

const ok = (body: unknown) => {
  const r = checkInstallerEvent(body);
  if ('error' in r) throw new Error(`refused: ${r.error}`);
  return r;
};
const refused = (body: unknown): string => {
  const r = checkInstallerEvent(body);
  if (!('error' in r)) throw new Error(`accepted: ${JSON.stringify(r.event)}`);
  return r.error;
};
/** What PostgreSQL's text/jsonb and a UTF-8 encoder accept: no lone surrogate, no NUL. */
const storable = (s: string): boolean => s.isWellFormed() && !s.includes('\u0000');

describe('installer event normalisation (before the ack)', () => {
  it('makes every string storable: lone surrogates and NUL become U+FFFD, in the event and in the raw body', () => {
    const body = JSON.parse('{"name":"a\\ud800b","event_type":"start","description":"x\\u0000y\\udfff","origin":"c\\ud83d","extra":{"k\\u0000":["\\ud800"]}}') as Record<string, unknown>;
    const { event, raw } = ok(body);
    expect(event.name).toBe('a\uFFFDb');
    expect(event.description).toBe('x\uFFFDy\uFFFD');
    expect(event.origin).toBe('c\uFFFD');
    for (const s of [event.name, event.description!, event.origin!, ...collectStrings(raw)]) expect(storable(s)).toBe(true);
    // a valid pair stays as it is
    expect(sanitizeString('\ud83d\ude00')).toBe('\ud83d\ude00');
  });

  it('refuses timestamps that no sink can hold and wrong JSON types, with a message saying what to fix', () => {
    expect(refused({ name: 'a', event_type: 'start', timestamp: 1e13 })).toMatch(/timestamp.*out of range/);
    expect(refused({ name: 'a', event_type: 'start', timestamp: -1 })).toMatch(/out of range/);
    expect(refused({ name: 'a', event_type: 'start', timestamp: '1700000000' })).toMatch(/timestamp.*number/);
    expect(refused({ name: 'a', event_type: 'start', description: 5 })).toMatch(/"description" must be a string/);
    expect(refused({ name: 'a', event_type: 'start', origin: ['x'] })).toMatch(/"origin" must be a string, not an array/);
    expect(refused({ name: 7, event_type: 'start' })).toMatch(/"name"/);
    expect(refused({ name: '  ', event_type: 'start' })).toMatch(/"name"/);
    expect(refused({ name: 'a', event_type: 'start; drop table' })).toMatch(/event_type/);
    expect(refused({ name: 'a', event_type: 'finish', result: 'fail' })).toMatch(/SUCCESS, WARN or FAIL/);
    expect(refused([])).toBe('event must be a JSON object');
    expect(refused(null)).toBe('event must be a JSON object');
    expect(ok({ name: 'a', event_type: 'start', timestamp: MAX_TIMESTAMP }).event.timestamp).toBe(MAX_TIMESTAMP);
    expect(ok({ name: 'a', event_type: 'start', timestamp: 0 }).event.timestamp).toBe(0);
  });

  it('bounds sizes: long names are refused, long descriptions truncated without splitting a pair, huge raw bodies summarised', () => {
    expect(refused({ name: 'n'.repeat(LIMITS.name + 1), event_type: 'start' })).toMatch(/at most 1024/);
    const long = `${'d'.repeat(LIMITS.description - 1)}\ud83d\ude00tail`;
    const { event } = ok({ name: 'a', event_type: 'start', description: long });
    expect(event.description!.startsWith('d'.repeat(LIMITS.description - 1))).toBe(true);
    expect(event.description).toMatch(/characters truncated\]$/);
    expect(storable(event.description!)).toBe(true);
    const { raw } = ok({ name: 'a', event_type: 'start', blob: 'x'.repeat(LIMITS.rawBytes + 10) });
    expect(Buffer.byteLength(JSON.stringify(raw))).toBeLessThan(LIMITS.rawBytes);
    expect(raw.anvilNote).toMatch(/not kept/);
  });

  it('keeps unknown event types that are words, and null optional fields as absent', () => {
    expect(ok({ name: 'a', event_type: 'progress', result: null, level: null }).event).toEqual({ name: 'a', event_type: 'progress' });
  });
});

function collectStrings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(collectStrings);
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [k, ...collectStrings(x)]);
  return [];
}
