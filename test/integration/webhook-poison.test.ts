// Issue 18, "acked means stored, and nothing acked can block anything else": a corpus of hostile webhook bodies
// (lone surrogates, NUL, impossible timestamps, oversized fields, unknown event types, wrong JSON types, invalid
// UTF-8) is posted RAW, as an installer's JSON encoder would put it on the wire. Each one is refused with a 4xx and a
// JSON error, or acknowledged and then stored normalised in PostgreSQL. Afterwards a valid event of another host
// still reaches that host's status and the history: right away, after a kill -9, and after a graceful restart. A
// record the history cannot store at all (written into the spool as an older boot-server could have left it) is
// quarantined, not retried forever, and what is behind it ships.
import { jest } from '@jest/globals';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { eventKey, type InstallerEvent } from '@anvil/core/install';
import { waitFor } from '../harness/kube.js';
import { startWebhookLab, stringsIn, UNSTORABLE, type LabHost, type StoredEventRow, type WebhookLab } from '../harness/webhook-lab.js';

jest.setTimeout(600_000);

const RUN = randomUUID().slice(0, 8);
const NAME_LIMIT = 1024;
const DESCRIPTION_LIMIT = 8192;
/** Room for a "[… truncated]" note after a cut description. */
const TRUNCATION_NOTE = 128;
const MAX_TIMESTAMP = 253402300799;

type Expectation = 'refused' | 'stored' | 'either';

interface Poison {
  label: string;
  /** The body on the wire; `name` is this entry's unique event name (poison/<round>/<index>/<label>), `ts` its timestamp. */
  body: (name: string, ts: number) => string | Buffer;
  expect: Expectation;
  /** The exact refusal status when the contract names one. */
  status?: number;
  contentType?: string;
  /** Extra checks on the stored row: a problem found, or undefined. */
  check?: (row: StoredEventRow, name: string) => string | undefined;
}

const q = JSON.stringify;
/** A problem when the stored value is not the expected one. */
const same = (actual: unknown, expected: unknown): string | undefined =>
  JSON.stringify(actual) === JSON.stringify(expected) ? undefined : `stored ${JSON.stringify(actual)?.slice(0, 200)}, expected ${JSON.stringify(expected)?.slice(0, 200)}`;
const ev = (fields: string): ((name: string, ts: number) => string) => (name, ts) => `{"name":${q(name)},"event_type":"start","timestamp":${ts},${fields}}`;
const utf8 = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

const CORPUS: Poison[] = [
  // Strings no sink can hold as they are: replaced by U+FFFD, the rest kept.
  { label: 'lone-high-surrogate-description', body: ev('"description":"before\\ud800after"'), expect: 'stored', check: (r) => same(r.description, 'before\uFFFDafter') },
  { label: 'lone-low-surrogate-name', body: (n, ts) => `{"name":${q(n).slice(0, -1)}/\\udc00x","event_type":"start","timestamp":${ts}}`, expect: 'stored', check: (r, n) => same(r.name, `${n}/\uFFFDx`) },
  { label: 'reversed-pair-origin', body: ev('"origin":"\\udc00\\ud800"'), expect: 'stored', check: (r) => same(r.origin, '\uFFFD\uFFFD') },
  { label: 'valid-pair-kept', body: ev('"description":"launch \\ud83d\\ude80"'), expect: 'stored', check: (r) => same(r.description, 'launch \u{1F680}') },
  { label: 'nul-description', body: ev('"description":"a\\u0000b"'), expect: 'stored', check: (r) => same(r.description, 'a\uFFFDb') },
  { label: 'nul-name', body: (n, ts) => `{"name":${q(n).slice(0, -1)}/nul\\u0000","event_type":"start","timestamp":${ts}}`, expect: 'stored', check: (r, n) => same(r.name, `${n}/nul\uFFFD`) },
  { label: 'nul-level', body: ev('"level":"DEBUG\\u0000"'), expect: 'stored', check: (r) => same(r.level, 'DEBUG\uFFFD') },
  {
    label: 'poisoned-extra-fields',
    body: ev('"extra":{"k\\u0000":"v\\ud800","list":["\\u0000","\\udfff"]}'),
    expect: 'stored',
    check: (r) => same(r.raw?.extra, { 'k\uFFFD': 'v\uFFFD', list: ['\uFFFD', '\uFFFD'] }),
  },
  // Timestamps: unix seconds in [0, year 9999], a number.
  { label: 'timestamp-1e13', body: (n) => `{"name":${q(n)},"event_type":"finish","result":"SUCCESS","timestamp":1e13}`, expect: 'refused', status: 400 },
  { label: 'timestamp-negative', body: (n) => `{"name":${q(n)},"event_type":"start","timestamp":-1}`, expect: 'refused', status: 400 },
  { label: 'timestamp-string', body: (n) => `{"name":${q(n)},"event_type":"start","timestamp":"1700000000"}`, expect: 'refused', status: 400 },
  { label: 'timestamp-infinite', body: (n) => `{"name":${q(n)},"event_type":"start","timestamp":1e400}`, expect: 'refused', status: 400 },
  { label: 'timestamp-bool', body: (n) => `{"name":${q(n)},"event_type":"start","timestamp":true}`, expect: 'refused', status: 400 },
  { label: 'timestamp-after-9999', body: (n) => `{"name":${q(n)},"event_type":"start","timestamp":${MAX_TIMESTAMP + 1}}`, expect: 'refused', status: 400 },
  {
    label: 'timestamp-last-second-of-9999',
    body: (n) => `{"name":${q(n)},"event_type":"start","timestamp":${MAX_TIMESTAMP}}`,
    expect: 'stored',
    check: (r) => same(r.event_time.toISOString(), '9999-12-31T23:59:59.000Z'),
  },
  {
    label: 'timestamp-zero',
    body: (n) => `{"name":${q(n)},"event_type":"start","timestamp":0}`,
    expect: 'stored',
    check: (r) => same(r.event_time.toISOString(), '1970-01-01T00:00:00.000Z'),
  },
  // Sizes.
  { label: 'description-64KiB', body: ev(`"description":${q('x'.repeat(64 * 1024))}`), expect: 'refused', status: 413 },
  {
    label: 'description-60000',
    body: ev(`"description":${q('d'.repeat(60_000))}`),
    expect: 'stored',
    check: (r) => (r.description?.startsWith('d'.repeat(DESCRIPTION_LIMIT)) ? undefined : `description not kept up to the limit: ${r.description?.slice(0, 40)}… (${r.description?.length})`),
  },
  {
    label: 'description-surrogate-pair-at-the-cut',
    // A pair straddling the 8192-character cut must not leave half of it behind.
    body: ev(`"description":"${'e'.repeat(DESCRIPTION_LIMIT - 1)}\\ud83d\\ude80${'e'.repeat(100)}"`),
    expect: 'stored',
  },
  { label: 'name-5000', body: (n, ts) => `{"name":${q(`${n}/${'n'.repeat(5000)}`)},"event_type":"start","timestamp":${ts}}`, expect: 'refused', status: 400 },
  { label: 'name-1025', body: (n, ts) => `{"name":${q(`${n}/`.padEnd(NAME_LIMIT + 1, 'n'))},"event_type":"start","timestamp":${ts}}`, expect: 'refused', status: 400 },
  {
    label: 'name-1024',
    body: (n, ts) => `{"name":${q(`${n}/`.padEnd(NAME_LIMIT, 'n'))},"event_type":"start","timestamp":${ts}}`,
    expect: 'stored',
    check: (r) => same(r.name.length, NAME_LIMIT),
  },
  { label: 'deeply-nested-extra', body: ev(`"extra":${'['.repeat(500)}1${']'.repeat(500)}`), expect: 'stored' },
  { label: 'thousands-of-extra-fields', body: ev(Array.from({ length: 3000 }, (_, i) => `"f${i}":"v"`).join(',')), expect: 'stored' },
  { label: 'proto-key', body: ev('"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}'), expect: 'stored' },
  // Event types: an unknown word is kept, anything else refused.
  { label: 'unknown-event-type', body: (n, ts) => `{"name":${q(n)},"event_type":"progress","timestamp":${ts}}`, expect: 'stored', check: (r) => same(r.event_type, 'progress') },
  { label: 'event-type-not-a-word', body: (n, ts) => `{"name":${q(n)},"event_type":"not a type!","timestamp":${ts}}`, expect: 'refused', status: 400 },
  { label: 'event-type-33-chars', body: (n, ts) => `{"name":${q(n)},"event_type":"${'a'.repeat(33)}","timestamp":${ts}}`, expect: 'refused', status: 400 },
  { label: 'event-type-nul', body: (n, ts) => `{"name":${q(n)},"event_type":"start\\u0000","timestamp":${ts}}`, expect: 'refused', status: 400 },
  // Wrong JSON types and shapes.
  { label: 'name-number', body: (_n, ts) => `{"name":42,"event_type":"start","timestamp":${ts}}`, expect: 'refused', status: 400 },
  { label: 'name-null', body: (_n, ts) => `{"name":null,"event_type":"start","timestamp":${ts}}`, expect: 'refused', status: 400 },
  { label: 'name-empty', body: (_n, ts) => `{"name":"","event_type":"start","timestamp":${ts}}`, expect: 'refused', status: 400 },
  { label: 'name-missing', body: (_n, ts) => `{"event_type":"start","timestamp":${ts}}`, expect: 'refused', status: 400 },
  { label: 'name-object', body: (_n, ts) => `{"name":{"a":1},"event_type":"start","timestamp":${ts}}`, expect: 'refused', status: 400 },
  { label: 'event-type-number', body: (n, ts) => `{"name":${q(n)},"event_type":7,"timestamp":${ts}}`, expect: 'refused', status: 400 },
  { label: 'event-type-missing', body: (n, ts) => `{"name":${q(n)},"timestamp":${ts}}`, expect: 'refused', status: 400 },
  { label: 'result-unknown', body: (n, ts) => `{"name":${q(n)},"event_type":"finish","result":"OK","timestamp":${ts}}`, expect: 'refused', status: 400 },
  { label: 'result-number', body: (n, ts) => `{"name":${q(n)},"event_type":"finish","result":1,"timestamp":${ts}}`, expect: 'refused', status: 400 },
  { label: 'description-object', body: ev('"description":{}'), expect: 'refused', status: 400 },
  { label: 'origin-array', body: ev('"origin":[]'), expect: 'refused', status: 400 },
  { label: 'level-number', body: ev('"level":5'), expect: 'refused', status: 400 },
  { label: 'body-array', body: () => '[]', expect: 'refused', status: 400 },
  { label: 'body-string', body: () => '"start"', expect: 'refused', status: 400 },
  { label: 'body-null', body: () => 'null', expect: 'refused', status: 400 },
  { label: 'body-number', body: () => '42', expect: 'refused', status: 400 },
  { label: 'body-truncated', body: (n) => `{"name":${q(n)},"event_ty`, expect: 'refused', status: 400 },
  { label: 'body-empty', body: () => '', expect: 'refused', status: 400 },
  { label: 'body-trailing-garbage', body: (n, ts) => `{"name":${q(n)},"event_type":"start","timestamp":${ts}} xyz`, expect: 'refused', status: 400 },
  // Bytes that are not UTF-8 at all: refused, or decoded with U+FFFD.
  { label: 'invalid-utf8-description', body: (n, ts) => utf8(`{"name":${q(n)},"event_type":"start","timestamp":${ts},"description":"a`, [0xff, 0xfe, 0x80], 'b"}'), expect: 'either' },
  { label: 'invalid-utf8-name', body: (n, ts) => utf8(`{"name":${q(n).slice(0, -1)}/`, [0xc3, 0x28], `","event_type":"start","timestamp":${ts}}`), expect: 'either' },
  { label: 'overlong-utf8-nul', body: (n, ts) => utf8(`{"name":${q(n)},"event_type":"start","timestamp":${ts},"description":"x`, [0xc0, 0x80], 'y"}'), expect: 'either' },
  { label: 'cesu8-surrogate-bytes', body: (n, ts) => utf8(`{"name":${q(n)},"event_type":"start","timestamp":${ts},"description":"`, [0xed, 0xa0, 0x80], '"}'), expect: 'either' },
  { label: 'utf8-bom', body: (n, ts) => utf8([0xef, 0xbb, 0xbf], `{"name":${q(n)},"event_type":"start","timestamp":${ts}}`), expect: 'either' },
  { label: 'unsupported-charset', body: (n, ts) => `{"name":${q(n)},"event_type":"start","timestamp":${ts}}`, contentType: 'application/json; charset=x-no-such-charset', expect: 'either' },
];

interface Posted {
  index: number;
  poison: Poison;
  name: string;
  status: number;
  body: string;
}

/** Every accepted row must be storable anywhere and bounded: the problems found. */
function normalisationProblems(row: StoredEventRow): string[] {
  const problems: string[] = [];
  const strings = [row.name, row.event_type, row.result, row.origin, row.level, row.description, ...stringsIn(row.raw)].filter((s): s is string => typeof s === 'string');
  const bad = strings.find((s) => UNSTORABLE.test(s));
  if (bad !== undefined) problems.push(`holds NUL or a lone surrogate: ${JSON.stringify(bad).slice(0, 100)}`);
  if (row.name.length > NAME_LIMIT) problems.push(`name of ${row.name.length} characters`);
  if ((row.description ?? '').length > DESCRIPTION_LIMIT + TRUNCATION_NOTE) problems.push(`description of ${row.description!.length} characters`);
  const rawBytes = Buffer.byteLength(JSON.stringify(row.raw ?? {}));
  if (rawBytes > 64 * 1024) problems.push(`raw of ${rawBytes} bytes`);
  const year = row.event_time.getUTCFullYear();
  if (Number.isNaN(row.event_time.getTime()) || year < 1970 || year > 9999) problems.push(`event_time ${String(row.event_time)}`);
  return problems;
}

describe('webhook poison corpus', () => {
  let lab: WebhookLab;
  let poisoned: LabHost;
  let healthy: LabHost;
  const base = Math.floor(Date.now() / 1000);
  let healthySeq = 0;

  beforeAll(async () => {
    lab = await startWebhookLab({ namespace: `poison-${RUN}`, database: `anvil_poison_${RUN}`, hostNames: ['poisoned', 'healthy'], macPrefix: '52:54:00:e1:8a' });
    [poisoned, healthy] = lab.hosts as [LabHost, LabHost];
  });

  afterAll(async () => {
    await lab?.stop();
  });

  const postCorpus = async (round: string, roundOffset: number): Promise<Posted[]> => {
    const posted: Posted[] = [];
    for (const [index, poison] of CORPUS.entries()) {
      const name = `poison/${round}/${index}/${poison.label}`;
      const res = await fetch(poisoned.webhook, { method: 'POST', headers: { 'Content-Type': poison.contentType ?? 'application/json' }, body: poison.body(name, base + roundOffset + index) });
      posted.push({ index, poison, name, status: res.status, body: await res.text() });
    }
    return posted;
  };

  /** The answers alone: 200 {"accepted":true}, or a 4xx with a JSON error; per the contract where it says which. */
  const answerProblems = (posted: Posted[]): string[] => {
    const wrong: string[] = [];
    for (const p of posted) {
      const accepted = p.status === 200;
      if (accepted) {
        if (p.poison.expect === 'refused') wrong.push(`${p.poison.label}: accepted, the contract refuses it (${p.poison.status ?? '4xx'})`);
        else if (p.body.replace(/\s/g, '') !== '{"accepted":true}') wrong.push(`${p.poison.label}: 200 with body ${p.body.slice(0, 200)}`);
        continue;
      }
      if (p.status < 400 || p.status > 499) {
        wrong.push(`${p.poison.label}: answered ${p.status} (neither 200 nor 4xx): ${p.body.slice(0, 200)}`);
        continue;
      }
      if (p.poison.expect === 'stored') wrong.push(`${p.poison.label}: refused with ${p.status} ${p.body.slice(0, 200)}, the contract stores it normalised`);
      if (p.poison.status && p.status !== p.poison.status) wrong.push(`${p.poison.label}: refused with ${p.status}, expected ${p.poison.status}`);
      let error: unknown;
      try {
        error = (JSON.parse(p.body) as { error?: unknown }).error;
      } catch {
        error = undefined;
      }
      if (typeof error !== 'string' || !error.trim()) wrong.push(`${p.poison.label}: ${p.status} without a JSON {"error": "..."}: ${p.body.slice(0, 200)}`);
    }
    return wrong;
  };

  /** Every acknowledged poison event is in the history once, normalised; nothing refused is. The problems found. */
  const storageProblems = async (round: string, posted: Posted[]): Promise<string[]> => {
    const acked = posted.filter((p) => p.status === 200);
    const prefix = `poison/${round}/`;
    const indexOf = (row: StoredEventRow): number => Number(/^poison\/[^/]+\/(\d+)\//.exec(row.name)?.[1]);
    const mine = async () => (await lab.events(poisoned.installationId)).filter((r) => r.name.startsWith(prefix));
    const rows = await waitFor(`${acked.length} acknowledged poison events of round ${round} in the history`, async () => {
      const r = await mine();
      return acked.every((p) => r.some((row) => indexOf(row) === p.index)) ? r : undefined;
    }, 90_000, 250).catch(async () => {
      const r = await mine();
      return { missing: acked.filter((p) => !r.some((row) => indexOf(row) === p.index)).map((p) => p.poison.label) };
    });
    if ('missing' in rows) return [`acknowledged but not in the history: ${rows.missing.join(', ')}`];
    const problems: string[] = [];
    for (const row of rows) {
      const p = posted[indexOf(row)];
      if (!p || p.status !== 200) problems.push(`${p?.poison.label ?? row.name}: in the history though it was answered ${p?.status}`);
    }
    for (const p of acked) {
      const stored = rows.filter((row) => indexOf(row) === p.index);
      if (stored.length !== 1) problems.push(`${p.poison.label}: stored ${stored.length} times`);
      const row = stored[0]!;
      for (const problem of [...normalisationProblems(row), p.poison.check?.(row, p.name)]) if (problem) problems.push(`${p.poison.label}: ${problem}`);
    }
    return problems;
  };

  /** A valid event of the other host reaches its status and the history. */
  const healthyEventFlows = async (label: string): Promise<void> => {
    const n = ++healthySeq;
    const event: InstallerEvent = { name: `subiquity/Install/install/healthy-${label}`, event_type: 'start', origin: 'curtin', level: 'DEBUG', description: `healthy ${label} ${RUN}`, timestamp: base + 10_000 + n };
    const res = await fetch(healthy.webhook, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(event) });
    expect(res.status).toBe(200);
    await waitFor(`healthy host's status shows the ${label} event`, async () => (await lab.host(healthy.name))?.status?.currentInstall?.lastEvent?.description === event.description, 60_000, 200);
    await waitFor(`the ${label} event in the history`, async () => (await lab.events(healthy.installationId)).some((r) => r.description === event.description), 60_000, 200);
  };

  const backlogDrains = () => waitFor('spool backlog back to 0', async () => (await lab.metric('anvil_spool_backlog_bytes')) === 0, 60_000, 250);

  it('refuses or stores normalised every poison event, and a valid event of another host still flows', async () => {
    const posted = await postCorpus('a', 0);
    const problems = answerProblems(posted);
    await healthyEventFlows('after-poison');
    problems.push(...(await storageProblems('a', posted)));
    const health = await fetch(`${lab.boot().url}/healthz`);
    await health.text();
    expect(health.status).toBe(200);
    await backlogDrains();
    expect(problems).toEqual([]);
  });

  it('still flows when the poison was spooled and the boot-server was killed (SIGKILL) before shipping it', async () => {
    const posted = await postCorpus('k', 1000);
    await lab.restartBoot('SIGKILL');
    const problems = answerProblems(posted);
    await healthyEventFlows('after-kill');
    problems.push(...(await storageProblems('k', posted)));
    await backlogDrains();
    expect(problems).toEqual([]);
  });

  it('still flows after a graceful restart (SIGTERM) with poison just accepted', async () => {
    const posted = await postCorpus('t', 2000);
    await lab.restartBoot('SIGTERM');
    const problems = answerProblems(posted);
    await healthyEventFlows('after-restart');
    problems.push(...(await storageProblems('t', posted)));
    await backlogDrains();
    expect(problems).toEqual([]);
  });

  it('quarantines a spooled record the history can never store, with its reason, and ships what is behind it', async () => {
    await lab.stopBoot('SIGTERM');
    // Records as an older boot-server (before validation) could have left them in its spool.
    const record = (host: LabHost, installationId: string, event: InstallerEvent) => ({
      kind: 'installer-event',
      receivedAt: new Date().toISOString(),
      mac: host.mac,
      host: { namespace: lab.namespace, name: host.name, uid: host.uid },
      installationId,
      install: { installationId, revision: host.revision, attempt: host.attempt },
      eventKey: eventKey(event),
      event,
      raw: { ...event },
    });
    const unstorable = { name: `quarantine/${RUN}/not-a-uuid`, event_type: 'start', timestamp: base + 3000 };
    const nulAndSurrogate = { name: `quarantine/${RUN}/nul-surrogate`, event_type: 'start', timestamp: base + 3001, description: 'nul\u0000 and lone \ud800' };
    const farFuture = { name: `quarantine/${RUN}/timestamp-1e13`, event_type: 'finish', result: 'SUCCESS', timestamp: 1e13 };
    const behind = { name: `subiquity/Install/install/behind-quarantine`, event_type: 'start', description: `behind the quarantine ${RUN}`, timestamp: base + 10_000 + ++healthySeq };
    const lines = [
      record(poisoned, `not-a-uuid-${RUN}`, unstorable),
      record(poisoned, poisoned.installationId, nulAndSurrogate),
      record(poisoned, poisoned.installationId, farFuture),
      record(healthy, healthy.installationId, behind),
    ];
    const seqs = readdirSync(lab.spoolDir).map((f) => /^seg-(\d{16})\.jsonl$/.exec(f)?.[1]).filter((s): s is string => !!s).map(Number);
    const seq = Math.max(0, ...seqs) + 1;
    // JSON.stringify writes NUL and the lone surrogate as \u escapes: the file itself is valid UTF-8, as the spool's is.
    writeFileSync(join(lab.spoolDir, `seg-${String(seq).padStart(16, '0')}.jsonl`), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    await lab.startBoot();

    await waitFor('the record behind the poison in the history', async () => (await lab.events(healthy.installationId)).some((r) => r.description === behind.description), 90_000, 250);
    await waitFor("the record behind the poison in the healthy host's status", async () => (await lab.host(healthy.name))?.status?.currentInstall?.lastEvent?.description === behind.description, 60_000, 200);

    const quarantineRes = await fetch(`${lab.boot().url}/api/v1/quarantine`);
    expect(quarantineRes.status).toBe(200);
    const quarantine = JSON.stringify(await quarantineRes.json());
    const problems: string[] = [];
    if (!quarantine.includes(unstorable.name)) problems.push(`${unstorable.name} (installation id not a UUID) is not in the quarantine`);
    const quarantined = await lab.metric('anvil_quarantined_records_total');
    if (!(quarantined! >= 1)) problems.push(`anvil_quarantined_records_total is ${quarantined}`);
    // The other two are either stored normalised or quarantined: never lost silently, never blocking.
    const stored = await lab.events(poisoned.installationId);
    for (const e of [nulAndSurrogate, farFuture]) {
      const row = stored.find((r) => r.name === e.name);
      if (row) problems.push(...normalisationProblems(row).map((p) => `${e.name}: ${p}`));
      else if (!quarantine.includes(e.name)) problems.push(`${e.name} is neither in the history nor in the quarantine`);
    }

    await healthyEventFlows('after-quarantine');
    await backlogDrains();
    expect(problems).toEqual([]);
  });
});
