// anvil logs HOST [-f] [--api URL]: an install's timeline, one line per thing that happened.
//
// From the host's status (the default), watched with -f: the attempt, its boot requests, state changes, the
// installer's latest event at each status change (the status keeps only the latest: a burst of events shows as its
// last one), the result, a scheduled retry. -f ends when the host has settled: the attempt has a result the operator
// has acted on, and neither a retry nor a reinstall is pending.
//
// From the install-history API (--api), polled with -f: every installer event of the newest installation, in event
// time order; -f ends at that installation's result. Needs no cluster.
import type { BareMetalHost } from '@anvil/core/api';
import { EXIT, RequestError } from '../errors.js';
import { flagBool, flagNumber, flagString, type CommandContext } from '../context.js';
import { getHost } from '../hosts-lookup.js';
import { isoSeconds } from '../output.js';
import { PAUSED_ANNOTATION } from '../resources.js';
import { sleep } from '../sleep.js';
import type { Host } from '../table.js';
import { watchHosts } from '../watch-loop.js';

type Status = NonNullable<BareMetalHost['status']>;
type CurrentInstall = NonNullable<Status['currentInstall']>;

const line = (time: Date | string | null | undefined, kind: string, text: string): string => `${isoSeconds(time)}  ${kind.padEnd(7)}  ${text}`.trimEnd();

const eventText = (e: { name: string; result?: string | null; description?: string | null }): string =>
  [e.name, e.result ?? '', e.description ? e.description.replace(/\s+/g, ' ') : ''].filter(Boolean).join('  ');

const attemptLine = (ci: CurrentInstall): string => line(ci.startedAt, 'attempt', `${ci.attempt} (revision ${ci.revision}${ci.installationId ? `, installation ${ci.installationId}` : ''})`);

function resultLine(ci: CurrentInstall): string {
  const failure = ci.failure ? `  ${ci.failure.stage}: ${ci.failure.reason}` : '';
  return line(ci.finishedAt, 'result', `${ci.result}${failure}`);
}

/** Lines for what changed between two views of a host's status (prev undefined: everything there is). */
export function statusLines(prev: Status | undefined, next: Status | undefined, now: Date): string[] {
  const lines: string[] = [];
  const pci = prev?.currentInstall;
  const nci = next?.currentInstall;
  const newAttempt = !!nci && (!pci || pci.attempt !== nci.attempt || pci.installationId !== nci.installationId);
  if (newAttempt) lines.push(attemptLine(nci));
  if (prev && next?.state !== prev.state) lines.push(line(now, 'state', `${prev.state ?? 'Pending'} -> ${next?.state ?? 'Pending'}`));
  const boot = next?.lastBootRequest;
  if (boot && (newAttempt || boot.time !== prev?.lastBootRequest?.time || boot.path !== prev?.lastBootRequest?.path) && (!nci || Date.parse(boot.time) >= Date.parse(nci.startedAt))) {
    lines.push(line(boot.time, 'boot', `${boot.served ?? 'request'} to ${boot.clientIP ?? '?'}${boot.path ? `  ${boot.path}` : ''}`));
  }
  const ev = nci?.lastEvent;
  const pev = newAttempt ? undefined : pci?.lastEvent;
  if (ev && (!pev || ev.time !== pev.time || ev.name !== pev.name || ev.type !== pev.type || ev.result !== pev.result)) lines.push(line(ev.time, ev.type, eventText(ev)));
  if (nci?.result && (newAttempt || !pci?.result)) lines.push(resultLine(nci));
  const retryAt = next?.retry?.nextAttemptAt;
  if (retryAt && retryAt !== prev?.retry?.nextAttemptAt) lines.push(line(now, 'retry', `next attempt at ${isoSeconds(retryAt)}`));
  return lines;
}

/**
 * Whether the host has settled: its attempt has a result that the operator has acted on (the host left Provisioning
 * and Installing), and no retry or reinstall is pending.
 */
export function settled(host: Host): boolean {
  const ci = host.status?.currentInstall;
  if (!ci?.result) return false;
  if (host.status?.state === 'Provisioning' || host.status?.state === 'Installing') return false;
  if (host.status?.retry?.nextAttemptAt) return false;
  const reinstallPending = (host.spec.provisioning?.revision ?? 0) > ci.revision && host.spec.provisioning?.allowed !== false;
  return !reinstallPending;
}

async function fromStatus(ctx: CommandContext): Promise<number> {
  const cluster = await ctx.cluster();
  const name = ctx.args[0]!;
  const host = await getHost(cluster, name);
  const ref = `${cluster.namespace}/${name}`;
  const follow = flagBool(ctx.flags, 'follow');
  let status = host.status;
  const first = statusLines(undefined, status, new Date());
  if (!status?.currentInstall) ctx.out(`# BareMetalHost ${ref} (state ${status?.state ?? 'Pending'}): no install attempt yet${follow ? '; waiting for one' : ''}`);
  if (first.length) ctx.out(first.join('\n'));
  if (!follow) return EXIT.ok;
  let current: Host = host;
  if (!settled(current)) {
    if (current.metadata.annotations?.[PAUSED_ANNOTATION] === 'true') ctx.warn(`${ref} is paused (${PAUSED_ANNOTATION}): nothing happens until that annotation goes`);
    let deleted = false;
    await watchHosts(cluster, ctx.signal, {
      namespace: cluster.namespace,
      fieldSelector: `metadata.name=${name}`,
      resourceVersion: host.metadata.resourceVersion ?? '',
      onEvent: (event) => {
        if (event.type === 'DELETED') {
          deleted = true;
          return;
        }
        if (event.type === 'ERROR') return;
        const lines = statusLines(status, event.object.status, new Date());
        if (lines.length) ctx.out(lines.join('\n'));
        status = event.object.status;
        current = event.object;
      },
      relist: async () => {
        const again = await getHost(cluster, name);
        const lines = statusLines(status, again.status, new Date());
        if (lines.length) ctx.out(lines.join('\n'));
        status = again.status;
        current = again;
        return again.metadata.resourceVersion ?? '';
      },
      done: () => deleted || settled(current),
    });
    if (deleted) throw new RequestError(`BareMetalHost ${ref} was deleted`);
    if (ctx.signal.aborted) return EXIT.ok;
  }
  return current.status?.currentInstall?.result === 'SUCCESS' ? EXIT.ok : EXIT.negative;
}

// ------------------------------------------------------------------------------------------------ history API mode

interface ApiInstallation {
  id: string;
  attempt: number;
  revision: number;
  startedAt: string;
  finishedAt: string | null;
  result: string | null;
  failureStage: string | null;
  failureReason: string | null;
  failureMessage: string | null;
}

interface ApiEvent {
  id: string;
  name: string;
  eventType: string;
  result: string | null;
  description: string | null;
  eventTime: string;
}

class HistoryApi {
  constructor(private readonly base: string) {}

  async get<T>(path: string): Promise<T> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new RequestError(`cannot reach the history API at ${this.base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, 'Check --api: the boot-server\'s or the operator\'s URL, e.g. http://boot-server:8080.');
    }
    const body = (await res.json().catch(() => undefined)) as (T & { message?: string }) | undefined;
    if (!res.ok || body === undefined) throw new RequestError(`the history API answered ${url} with HTTP ${res.status}${body?.message ? `: ${body.message}` : ''}`);
    return body;
  }

  /** The link the API gives for the next page is relative to the server: resolve it against --api. */
  resolve(link: string): string {
    return new URL(link, `${this.base}/`).href;
  }
}

async function fromApi(ctx: CommandContext, base: string): Promise<number> {
  const api = new HistoryApi(base.replace(/\/+$/, ''));
  const name = ctx.args[0]!;
  const namespace = await ctx.namespace();
  const ref = `${namespace}/${name}`;
  const follow = flagBool(ctx.flags, 'follow');
  const interval = flagNumber(ctx.flags, 'poll-interval') ?? 1000;
  const newest = async (): Promise<ApiInstallation | undefined> =>
    (await api.get<{ items: ApiInstallation[] }>(`/api/v1/hosts/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/installations?limit=1`)).items[0];

  let installation = await newest();
  if (!installation) {
    ctx.out(`# BareMetalHost ${ref}: no installations recorded${follow ? '; waiting for one' : ''}`);
    if (!follow) return EXIT.ok;
    while (!installation && !ctx.signal.aborted) {
      await sleep(interval, ctx.signal);
      installation = ctx.signal.aborted ? undefined : await newest();
    }
    if (!installation) return EXIT.ok;
  }
  const id = installation.id;
  ctx.out(line(installation.startedAt, 'attempt', `${installation.attempt} (revision ${installation.revision}, installation ${id})`));

  const seen = new Set<string>();
  // Events come in event-time order, a page at a time; new ones are read from the start of the last page read.
  const firstPage = `/api/v1/installations/${encodeURIComponent(id)}/events?limit=500`;
  let pageStart = firstPage;
  const readNew = async (): Promise<void> => {
    let url: string | null = pageStart;
    while (url) {
      const page: { items: ApiEvent[]; next: string | null } = await api.get(url);
      const fresh = page.items.filter((e) => !seen.has(e.id));
      for (const e of fresh) seen.add(e.id);
      if (fresh.length) ctx.out(fresh.map((e) => line(e.eventTime, e.eventType, eventText(e))).join('\n'));
      if (page.next) pageStart = page.next;
      url = page.next ? api.resolve(page.next) : null;
    }
  };
  const finished = (i: ApiInstallation): boolean => i.result !== null;
  const resultOf = (i: ApiInstallation): string =>
    line(i.finishedAt, 'result', `${i.result}${i.failureStage || i.failureReason ? `  ${[i.failureStage, i.failureReason, i.failureMessage].filter(Boolean).join(': ')}` : ''}`);

  await readNew();
  if (finished(installation) || !follow) {
    if (finished(installation)) ctx.out(resultOf(installation));
    return !follow || installation.result === 'SUCCESS' ? EXIT.ok : EXIT.negative;
  }
  while (!ctx.signal.aborted) {
    await sleep(interval, ctx.signal);
    if (ctx.signal.aborted) break;
    const detail = (await api.get<{ installation: ApiInstallation }>(`/api/v1/installations/${encodeURIComponent(id)}?limit=1`)).installation;
    // At the end, once from the start: an event that arrived late with an earlier time than the pages read since.
    if (finished(detail)) pageStart = firstPage;
    await readNew();
    if (finished(detail)) {
      ctx.out(resultOf(detail));
      return detail.result === 'SUCCESS' ? EXIT.ok : EXIT.negative;
    }
  }
  return EXIT.ok;
}

export async function run(ctx: CommandContext): Promise<number> {
  const api = flagString(ctx.flags, 'api');
  return api ? fromApi(ctx, api) : fromStatus(ctx);
}
