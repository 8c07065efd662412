// Plays installer event streams (test/fixtures/subiquity) against a boot-server's webhook the way curtin's
// WebHookHandler sends them: one POST per event, in order, each waiting for the previous answer, never retried, with a
// JSON body as Python's json.dumps writes it. Pacing follows the installer's clock, compressed.
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import type { SubiquityEvent } from '../fixtures/subiquity/streams.js';

export interface PostOutcome {
  event: SubiquityEvent;
  status: number;
  body: string;
}

export interface ReplayOptions {
  /** Wall-clock milliseconds per installer second (default 4: a 12-minute install replays in about 3 s). */
  msPerInstallerSecond?: number;
  /** Bounds of one pause between two posts, in ms (default 2..150). */
  minGapMs?: number;
  maxGapMs?: number;
}

/** The body curtin posts: json.dumps(event.as_dict()), keys in as_dict() order, `", "` and `": "` separators. */
export function curtinBody(event: SubiquityEvent): string {
  return `{${Object.entries(event)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(', ')}}`;
}

/** The webhook endpoint anvil rendered into the autoinstall user-data (autoinstall.reporting.anvil.endpoint). */
export function webhookURLOf(userData: string): string {
  const doc = parse(userData) as { autoinstall?: { reporting?: Record<string, { type?: string; endpoint?: string }> } } | null;
  const endpoint = doc?.autoinstall?.reporting?.anvil?.endpoint;
  if (!endpoint) throw new Error('the rendered user-data has no anvil webhook endpoint');
  return endpoint;
}

/** The naps of anvil's reporter before each retry of a failed POST (curtin's `retries`); none when not rendered. */
export function webhookRetriesOf(userData: string): number[] {
  const doc = parse(userData) as { autoinstall?: { reporting?: Record<string, { retries?: unknown }> } } | null;
  const retries = doc?.autoinstall?.reporting?.anvil?.retries;
  return Array.isArray(retries) ? retries.map(Number) : [];
}

export async function postEvent(webhookURL: string, event: SubiquityEvent): Promise<PostOutcome> {
  const res = await fetch(webhookURL, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: curtinBody(event) });
  return { event, status: res.status, body: await res.text() };
}

/**
 * Posts `events` one after another and returns every answer (a refused post is recorded, not retried: curtin only
 * logs it). The pause before each post is the installer-clock gap to the previous event, scaled and bounded.
 */
export async function replay(webhookURL: string, events: readonly SubiquityEvent[], options: ReplayOptions = {}): Promise<PostOutcome[]> {
  const scale = options.msPerInstallerSecond ?? 4;
  const minGap = options.minGapMs ?? 2;
  const maxGap = options.maxGapMs ?? 150;
  const outcomes: PostOutcome[] = [];
  let previous: SubiquityEvent | undefined;
  for (const event of events) {
    if (previous) await sleep(Math.min(maxGap, Math.max(minGap, (event.timestamp - previous.timestamp) * scale)));
    outcomes.push(await postEvent(webhookURL, event));
    previous = event;
  }
  return outcomes;
}

/** "404 start subiquity/..." for each post that was not answered 200, to show in a failed expectation. */
export const refusedPosts = (outcomes: readonly PostOutcome[]): string[] =>
  outcomes.filter((o) => o.status !== 200).map((o) => `${o.status} ${o.event.event_type} ${o.event.name}: ${o.body.slice(0, 200)}`);
