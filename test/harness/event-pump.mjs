// An installer that keeps posting events, run inside the test cluster's network namespace (where Service IPs are
// reachable): `node event-pump.mjs WEBHOOK_URL OUT_FILE STOP_FILE [RETRIES]`. Like curtin's webhook reporter, each POST
// waits for the previous one, and a failed POST (a connection error or any non-2xx answer) is tried again after each
// nap of RETRIES (comma-separated seconds, curtin's `retries` as anvil renders it into reporting.anvil; none when
// absent) before the event is given up. Every event carries a unique description (pump-<n>-<type>); its outcome (the
// final HTTP status or connection error, and every try) is appended to OUT_FILE as one JSON line, so the test can
// check what was acknowledged and what was lost. It stops once STOP_FILE exists.
/* global fetch, AbortSignal */
import { appendFileSync, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const [webhook, out, stop, retriesArg = ''] = process.argv.slice(2);
if (!webhook || !out || !stop) throw new Error('usage: event-pump.mjs WEBHOOK_URL OUT_FILE STOP_FILE [RETRIES]');
const retries = retriesArg.split(',').filter(Boolean).map(Number);
const TOP_LEVEL = 'subiquity/Install/install';

/** The body as curtin's json.dumps writes it. */
const body = (event) => `{${Object.entries(event).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`;

async function tryOnce(event) {
  const at = Date.now();
  try {
    const res = await fetch(webhook, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body(event), signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    return { at, status: res.status, body: text.slice(0, 200) };
  } catch (err) {
    const cause = err?.cause?.code ?? err?.cause?.message ?? err?.name ?? String(err);
    return { at, error: String(cause) };
  }
}

const ok = (t) => t.status !== undefined && t.status >= 200 && t.status < 300;

/** curtin's url_helper.geturl: one try per nap, sleeping the nap after each failure, then a last try. */
async function post(event) {
  const tries = [];
  for (const nap of retries) {
    tries.push(await tryOnce(event));
    if (ok(tries.at(-1))) break;
    await sleep(nap * 1000);
  }
  if (!tries.length || !ok(tries.at(-1))) tries.push(await tryOnce(event));
  const last = tries.at(-1);
  appendFileSync(out, `${JSON.stringify({ description: event.description, ...last, at: tries[0].at, tries })}\n`);
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
