// `anvil history HOST`: a host's install timeline (each attempt with its result, failed stage and the installer's
// phases nested by name), read from the operator's history API (--api) or straight from the database
// (--database-url, or --data-dir for the embedded one).
import { existsSync } from 'node:fs';
import { derivePhases, formatDuration, type HostKey, type HistoryStore, type Installation, type InstallResult, type Phase } from '@anvil/core/db';

export interface InstallTimeline {
  installation: Installation;
  phases: Phase[];
}

export interface HistoryCommandOptions {
  host: HostKey;
  api?: string;
  databaseUrl?: string;
  dataDir?: string;
  /** Installations to show, newest ones (default 10). */
  limit?: number;
  /** Phase nesting shown (default 3; 0 hides phases). */
  depth?: number;
}

const iso = (d: Date | null) => (d ? d.toISOString().replace('.000Z', 'Z') : '-');

/** Reads the newest `limit` installations with their phases from a store. */
export async function timelineFromStore(store: HistoryStore, host: HostKey, limit: number): Promise<InstallTimeline[]> {
  const page = await store.listInstallations(host, { limit });
  const out: InstallTimeline[] = [];
  for (const installation of page.items) {
    const events = [];
    let cursor: string | undefined;
    do {
      const p = await store.listInstallerEvents(installation.id, { limit: 1000, cursor });
      events.push(...p.items);
      cursor = p.nextCursor;
    } while (cursor);
    out.push({ installation, phases: derivePhases(events) });
  }
  return out;
}

type Json = Record<string, unknown>;
const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the history API's JSON into the store's types, field by field: an answer of another shape is an error. */
class Decoder {
  constructor(private readonly what: string) {}

  object(v: unknown, field: string): Json {
    if (!isJson(v)) throw this.invalid(field, 'an object');
    return v;
  }

  array(v: unknown, field: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.invalid(field, 'an array');
    return v;
  }

  string(o: Json, field: string): string {
    const v = o[field];
    if (typeof v !== 'string') throw this.invalid(field, 'a string');
    return v;
  }

  number(o: Json, field: string): number {
    const v = o[field];
    if (typeof v !== 'number') throw this.invalid(field, 'a number');
    return v;
  }

  nullableString(o: Json, field: string): string | null {
    return o[field] === undefined || o[field] === null ? null : this.string(o, field);
  }

  nullableNumber(o: Json, field: string): number | null {
    return o[field] === undefined || o[field] === null ? null : this.number(o, field);
  }

  date(o: Json, field: string): Date {
    return new Date(this.string(o, field));
  }

  nullableDate(o: Json, field: string): Date | null {
    const v = this.nullableString(o, field);
    return v === null ? null : new Date(v);
  }

  oneOf<const V extends string>(o: Json, field: string, values: Readonly<Record<V, true>>): V | null {
    const v = this.nullableString(o, field);
    if (v === null) return null;
    const known = (s: string): s is V => Object.hasOwn(values, s);
    if (!known(v)) throw this.invalid(field, `one of ${Object.keys(values).join(', ')}`);
    return v;
  }

  private invalid(field: string, expected: string): Error {
    return new Error(`the history API answered ${this.what} whose ${field} is not ${expected}`);
  }
}

const INSTALL_RESULTS: Readonly<Record<InstallResult, true>> = { SUCCESS: true, FAIL: true, CANCELLED: true };

function decodeInstallation(v: unknown): Installation {
  const d = new Decoder('an installation');
  const i = d.object(v, 'installation');
  const host = d.object(i.host, 'host');
  const template = d.object(i.template, 'template');
  return {
    id: d.string(i, 'id'),
    host: { namespace: d.string(host, 'namespace'), name: d.string(host, 'name'), uid: d.string(host, 'uid') },
    mac: d.string(i, 'mac'),
    template: { name: d.nullableString(template, 'name'), contentHash: d.nullableString(template, 'contentHash'), generation: d.nullableNumber(template, 'generation') },
    revision: d.number(i, 'revision'),
    attempt: d.number(i, 'attempt'),
    startedAt: d.date(i, 'startedAt'),
    finishedAt: d.nullableDate(i, 'finishedAt'),
    finishReceivedAt: d.nullableDate(i, 'finishReceivedAt'),
    result: d.oneOf(i, 'result', INSTALL_RESULTS),
    durationSeconds: d.nullableNumber(i, 'durationSeconds'),
    failureReason: d.nullableString(i, 'failureReason'),
    failureMessage: d.nullableString(i, 'failureMessage'),
    failureStage: d.nullableString(i, 'failureStage'),
  };
}

function decodePhase(v: unknown): Phase {
  const d = new Decoder('a phase');
  const p = d.object(v, 'phase');
  return {
    name: d.string(p, 'name'),
    label: d.string(p, 'label'),
    parent: d.nullableNumber(p, 'parent'),
    depth: d.number(p, 'depth'),
    startedAt: d.nullableDate(p, 'startedAt'),
    finishedAt: d.nullableDate(p, 'finishedAt'),
    durationSeconds: d.nullableNumber(p, 'durationSeconds'),
    result: d.nullableString(p, 'result'),
    description: d.nullableString(p, 'description'),
    finishDescription: d.nullableString(p, 'finishDescription'),
    closedBy: d.nullableString(p, 'closedBy'),
  };
}

async function getJson(url: string): Promise<Json> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  const parsed: unknown = await res.json().catch(() => ({}));
  const body: Json = isJson(parsed) ? parsed : {};
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}${typeof body.message === 'string' ? `: ${body.message}` : ''}`);
  return body;
}

/** The same from the history API of the operator at baseUrl. */
export async function timelineFromApi(baseUrl: string, host: HostKey, limit: number): Promise<InstallTimeline[]> {
  const base = baseUrl.replace(/\/+$/, '');
  const list = await getJson(`${base}/api/v1/hosts/${encodeURIComponent(host.namespace)}/${encodeURIComponent(host.name)}/installations?limit=${limit}`);
  const d = new Decoder('a list of installations');
  const out: InstallTimeline[] = [];
  for (const item of d.array(list.items, 'items')) {
    const id = d.string(d.object(item, 'item'), 'id');
    const detail = await getJson(`${base}/api/v1/installations/${encodeURIComponent(id)}?limit=1`);
    out.push({ installation: decodeInstallation(detail.installation), phases: d.array(detail.phases, 'phases').map(decodePhase) });
  }
  return out;
}

/** The timeline as text, oldest installation first. */
export function renderTimeline(host: HostKey, timeline: readonly InstallTimeline[], depth = 3): string {
  if (!timeline.length) return `BareMetalHost ${host.namespace}/${host.name}: no installations recorded\n`;
  const lines = [`BareMetalHost ${host.namespace}/${host.name}: ${timeline.length} installation${timeline.length === 1 ? '' : 's'} (oldest first)`];
  for (const { installation: i, phases } of [...timeline].reverse()) {
    const result = `${i.result ?? 'RUNNING'}${i.failureStage ? ` (${i.failureStage})` : ''}`;
    const reason = [i.failureReason, i.failureMessage].filter(Boolean).join(': ');
    lines.push('');
    lines.push(`attempt ${i.attempt}  revision ${i.revision}  started ${iso(i.startedAt)}  duration ${formatDuration(i.durationSeconds)}  ${result}${reason ? `  ${reason}` : ''}`);
    lines.push(`  id ${i.id}  template ${i.template.name ?? '-'}${i.template.generation !== null ? ` (generation ${i.template.generation})` : ''}  mac ${i.mac}`);
    const shown = phases.filter((p) => p.depth < depth);
    if (!shown.length) continue;
    // Phases come in tree order, nested by name; a label is the part of the name below the parent's.
    const label = (p: Phase) => `${'  '.repeat(p.depth + 2)}${p.label ?? p.name}`;
    const width = Math.min(72, Math.max(...shown.map((p) => label(p).length)));
    for (const p of shown) {
      const status = p.result ?? (p.closedBy ? 'closed' : p.finishedAt ? '' : i.result ? 'unfinished' : 'running');
      lines.push(`${label(p).padEnd(width)}  ${formatDuration(p.durationSeconds).padStart(9)}  ${status}`.trimEnd());
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Reads the timeline from the source the options name. */
export async function readTimeline(opts: HistoryCommandOptions): Promise<InstallTimeline[]> {
  const limit = opts.limit ?? 10;
  let timeline: InstallTimeline[];
  if (opts.api) {
    timeline = await timelineFromApi(opts.api, opts.host, limit);
  } else {
    if (!opts.databaseUrl && !(opts.dataDir && existsSync(opts.dataDir))) throw new Error(`no embedded history database at ${opts.dataDir ?? '(none given)'}`);
    const { openHistoryStore } = await import('@anvil/core/db');
    // Read-only: never migrate from the CLI. With --data-dir, stop the process that owns the directory first
    // (the embedded database is single-process) or read a copy.
    const store = await openHistoryStore({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir ?? '', migrate: false, poolSize: 2, applicationName: 'anvil-cli' });
    try {
      timeline = await timelineFromStore(store, opts.host, limit);
    } catch (err) {
      if (/relation "installations" does not exist/.test(String((err as { cause?: unknown })?.cause ?? err))) throw new Error(`no install history in ${store.describe} (never migrated)`);
      throw err;
    } finally {
      await store.close();
    }
  }
  return timeline;
}

/** Runs the command; returns the exit code. */
export async function runHistory(opts: HistoryCommandOptions, out: (s: string) => void): Promise<number> {
  out(renderTimeline(opts.host, await readTimeline(opts), opts.depth ?? 3));
  return 0;
}
