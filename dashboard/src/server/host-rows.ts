// The fleet view's rows: what the table shows of a host (never its secrets: no spec.variables, no annotations, no
// BMC address), and the server-side filter, sort, paging and counts per state, so a 10,000-host fleet sends one page.
import { BAREMETALHOST_STATES, type BareMetalHost } from '@anvil/core/api';

export interface HostRow {
  namespace: string;
  name: string;
  state: string;
  /** Current installer phase (status.currentInstall.phase) while an attempt runs. */
  phase: string | null;
  progress: string | null;
  template: string | null;
  /** spec.provisioning.revision: the install generation asked for. */
  revision: number | null;
  attempt: number | null;
  power: string | null;
  lastBootRequest: { time: string; served: string | null } | null;
  createdAt: string | null;
  labels: Record<string, string>;
  resourceVersion: string | null;
}

export const hostRow = (h: BareMetalHost): HostRow => {
  const status = h.status ?? {};
  const current = status.currentInstall;
  return {
    namespace: h.metadata.namespace ?? '',
    name: h.metadata.name ?? '',
    state: status.state ?? 'Pending',
    phase: current && !current.finishedAt ? (current.phase ?? null) : null,
    progress: current && !current.finishedAt ? (current.progress ?? null) : null,
    template: h.spec.templateRef?.name ?? null,
    revision: h.spec.provisioning?.revision ?? null,
    attempt: current?.attempt ?? status.recentInstalls?.[0]?.attempt ?? null,
    power: status.power?.state ?? null,
    lastBootRequest: status.lastBootRequest ? { time: status.lastBootRequest.time, served: status.lastBootRequest.served ?? null } : null,
    createdAt: h.metadata.creationTimestamp ?? null,
    labels: h.metadata.labels ?? {},
    resourceVersion: h.metadata.resourceVersion ?? null,
  };
};

/** One requirement of a label selector: `k=v`, `k==v`, `k!=v`, `k` (exists) or `!k` (does not exist). */
type Requirement = { key: string; op: '=' | '!=' | 'exists' | '!exists'; value?: string };

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Parses the equality-based label selectors kubectl takes; throws an Error that says what is wrong. */
export function parseLabelSelector(selector: string): Requirement[] {
  return selector
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^(!?)([^=!]+?)\s*(?:(==|=|!=)\s*(.*))?$/.exec(part);
      const key = m?.[2]?.trim() ?? '';
      if (!m || !LABEL_KEY.test(key) || (m[1] && m[3])) throw new Error(`label selector "${part}" is not key, !key, key=value or key!=value`);
      if (!m[3]) return { key, op: m[1] ? '!exists' : 'exists' };
      const value = m[4]!.trim();
      if (!LABEL_VALUE.test(value) || value.length > 63) throw new Error(`label selector "${part}": "${value}" is not a label value`);
      return { key, op: m[3] === '!=' ? '!=' : '=', value };
    });
}

const matches = (labels: Record<string, string>, reqs: readonly Requirement[]): boolean =>
  reqs.every((r) => {
    const v = labels[r.key];
    if (r.op === 'exists') return v !== undefined;
    if (r.op === '!exists') return v === undefined;
    if (r.op === '=') return v === r.value;
    return v !== r.value;
  });

export interface HostQuery {
  namespace?: string;
  labelSelector?: string;
  /** Any of these states. */
  states?: string[];
  /** Part of the name. */
  search?: string;
  offset: number;
  limit: number;
}

export const MAX_PAGE = 500;

/** Reads /api/hosts's query string; throws an Error with a message for the user. */
export function parseHostQuery(q: Record<string, unknown>): HostQuery {
  const one = (k: string): string | undefined => {
    const v = q[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new Error(`${k} must be given once`);
    return v.trim() || undefined;
  };
  const int = (k: string, dflt: number, min: number, max: number): number => {
    const v = one(k);
    if (v === undefined) return dflt;
    if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) throw new Error(`${k} must be a whole number from ${min} to ${max}, got "${v}"`);
    return Number(v);
  };
  const states = one('state')?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of states ?? []) {
    if (!(BAREMETALHOST_STATES as readonly string[]).includes(s)) throw new Error(`state "${s}" is not one of ${BAREMETALHOST_STATES.join(', ')}`);
  }
  const labelSelector = one('labelSelector');
  if (labelSelector) parseLabelSelector(labelSelector);
  const namespace = one('namespace');
  const search = one('search');
  return {
    ...(namespace ? { namespace } : {}),
    ...(labelSelector ? { labelSelector } : {}),
    ...(states?.length ? { states } : {}),
    ...(search ? { search } : {}),
    offset: int('offset', 0, 0, 10_000_000),
    limit: int('limit', 100, 1, MAX_PAGE),
  };
}

export interface HostPage {
  items: HostRow[];
  /** Hosts matching every filter. */
  total: number;
  offset: number;
  limit: number;
  /** Per state, hosts matching the other filters (namespace, labels, search): what the state filter chooses from. */
  counts: Record<string, number>;
  namespaces: string[];
}

/** Does the row pass the namespace, label and search filters (not the state filter)? */
export function rowFilter(query: Omit<HostQuery, 'offset' | 'limit'>): (h: BareMetalHost) => boolean {
  const reqs = query.labelSelector ? parseLabelSelector(query.labelSelector) : [];
  const search = query.search?.toLowerCase();
  return (h) =>
    (!query.namespace || h.metadata.namespace === query.namespace) &&
    matches(h.metadata.labels ?? {}, reqs) &&
    (!search || (h.metadata.name ?? '').toLowerCase().includes(search));
}

// Names are DNS labels (ASCII): code-unit order is their order, and many times faster than localeCompare on 10,000 hosts.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byKey = (a: BareMetalHost, b: BareMetalHost): number => compare(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || compare(a.metadata.name ?? '', b.metadata.name ?? '');

/** One page of the hosts the user may see, sorted by namespace and name. */
export function pageOfHosts(hosts: readonly BareMetalHost[], query: HostQuery): HostPage {
  const pass = rowFilter(query);
  const counts: Record<string, number> = Object.fromEntries(BAREMETALHOST_STATES.map((s) => [s, 0]));
  const namespaces = new Set<string>();
  const selected: BareMetalHost[] = [];
  for (const h of hosts) {
    namespaces.add(h.metadata.namespace ?? '');
    if (!pass(h)) continue;
    const state = h.status?.state ?? 'Pending';
    counts[state] = (counts[state] ?? 0) + 1;
    if (!query.states || query.states.includes(state)) selected.push(h);
  }
  selected.sort(byKey);
  return {
    items: selected.slice(query.offset, query.offset + query.limit).map(hostRow),
    total: selected.length,
    offset: query.offset,
    limit: query.limit,
    counts,
    namespaces: [...namespaces].sort(),
  };
}
