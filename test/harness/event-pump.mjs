// An installer that keeps posting events, run inside the test cluster's network namespace (where Service IPs are
// reachable): `node event-pump.mjs WEBHOOK_URL OUT_FILE STOP_FILE`. Like curtin, each POST waits for the previous
// answer and is never retried. Every event carries a unique description (pump-<n>-<type>); every outcome (HTTP status,
// or the connection error) is appended to OUT_FILE as one JSON line, so the test can check what was acknowledged.
// It stops once STOP_FILE exists.
/* global fetch, AbortSignal */
import { appendFileSync, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const [webhook, out, stop] = process.argv.slice(2);
if (!webhook || !out || !stop) throw new Error('usage: event-pump.mjs WEBHOOK_URL OUT_FILE STOP_FILE');
const TOP_LEVEL = 'subiquity/Install/install';

/** The body as curtin's json.dumps writes it. */
const body = (event) => `{${Object.entries(event).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`;

async function post(event) {
  const at = Date.now();
  try {
    const res = await fetch(webhook, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body(event), signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    appendFileSync(out, `${JSON.stringify({ description: event.description, at, status: res.status, body: text.slice(0, 200) })}\n`);
  } catch (err) {
    const cause = err?.cause?.code ?? err?.cause?.message ?? err?.name ?? String(err);
    appendFileSync(out, `${JSON.stringify({ description: event.description, at, error: String(cause) })}\n`);
  }
}

const event = (name, type, description, extra = {}) => ({ name, description, event_type: type, origin: 'curtin', timestamp: Date.now() / 1000, level: 'INFO', ...extra });

await post(event(TOP_LEVEL, 'start', 'pump-top-start'));
for (let n = 0; !existsSync(stop); n++) {
  const step = `${TOP_LEVEL}/pump/step-${n}`;
  await post(event(step, 'start', `pump-${n}-start`));
  await sleep(25);
  await post(event(step, 'finish', `pump-${n}-finish`, { result: 'SUCCESS' }));
  await sleep(25);
}
