// The fleet view: every host the user may see, filtered and paged on the server, counts per state, kept current by
// the event stream (a changed row is replaced at once; counts and the page are fetched again shortly after).
import { html } from 'htm/preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { getJson, liveHosts, type HostEvent, type LiveState } from './api.js';
import { age, localTime, stateClass } from './format.js';
import { STATES, type HostPage, type HostRow } from './types.js';

const PAGE_SIZE = 100;

interface Filters {
  namespace: string;
  labelSelector: string;
  states: string[];
  search: string;
  offset: number;
}

const queryOf = (f: Filters): string => {
  const q = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(f.offset) });
  if (f.namespace) q.set('namespace', f.namespace);
  if (f.labelSelector.trim()) q.set('labelSelector', f.labelSelector.trim());
  if (f.states.length) q.set('state', f.states.join(','));
  if (f.search.trim()) q.set('search', f.search.trim());
  return q.toString();
};

const liveText: Record<LiveState, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', denied: 'Live updates refused' };

export function Fleet(props: { onError: (err: unknown) => void }) {
  const [filters, setFilters] = useState<Filters>({ namespace: '', labelSelector: '', states: [], search: '', offset: 0 });
  const [page, setPage] = useState<HostPage | undefined>();
  const [queryError, setQueryError] = useState<string | undefined>();
  const [live, setLive] = useState<LiveState>('connecting');
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const refetchTimer = useRef<number | undefined>(undefined);

  const load = useCallback(async () => {
    try {
      setPage(await getJson<HostPage>(`/api/hosts?${queryOf(filtersRef.current)}`));
      setQueryError(undefined);
    } catch (err) {
      if ((err as { status?: number }).status === 400) setQueryError((err as Error).message);
      else props.onError(err);
    }
  }, [props.onError]);

  useEffect(() => {
    void load();
  }, [filters, load]);

  useEffect(
    () =>
      liveHosts((e: HostEvent) => {
        setPage((p) => (p && e.type === 'changed' ? { ...p, items: p.items.map((h) => (h.namespace === e.host.namespace && h.name === e.host.name ? e.host : h)) } : p));
        window.clearTimeout(refetchTimer.current);
        refetchTimer.current = window.setTimeout(() => void load(), 300);
      }, setLive),
    [load],
  );

  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, offset: 0, ...patch }));
  const toggleState = (s: string) => set({ states: filters.states.includes(s) ? filters.states.filter((x) => x !== s) : [...filters.states, s] });
  const total = page?.total ?? 0;
  const allCount = page ? Object.values(page.counts).reduce((a, b) => a + b, 0) : 0;

  return html`
    <section aria-labelledby="fleet-title">
      <div class="toolbar">
        <h1 id="fleet-title">Fleet</h1>
        <span class=${`live live-${live}`} role="status" aria-live="polite">${liveText[live]}</span>
      </div>
      <div class="counts" role="group" aria-label="Filter by state">
        <button type="button" aria-pressed=${filters.states.length === 0} onClick=${() => set({ states: [] })}>All <span class="count">${allCount}</span></button>
        ${STATES.map(
          (s) => html`<button type="button" class=${stateClass(s)} aria-pressed=${filters.states.includes(s)} onClick=${() => toggleState(s)} data-state=${s}>
            ${s} <span class="count" data-count=${s}>${page?.counts[s] ?? 0}</span>
          </button>`,
        )}
      </div>
      <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
        <label>Namespace
          <select value=${filters.namespace} onChange=${(e: Event) => set({ namespace: (e.target as HTMLSelectElement).value })}>
            <option value="">All namespaces</option>
            ${(page?.namespaces ?? []).map((ns) => html`<option value=${ns}>${ns}</option>`)}
          </select>
        </label>
        <label>Labels
          <input type="text" placeholder="rack=r1,env!=lab" value=${filters.labelSelector} aria-describedby=${queryError ? 'query-error' : undefined}
            onChange=${(e: Event) => set({ labelSelector: (e.target as HTMLInputElement).value })} />
        </label>
        <label>Name
          <input type="search" value=${filters.search} onInput=${(e: Event) => set({ search: (e.target as HTMLInputElement).value })} />
        </label>
      </form>
      ${queryError ? html`<p id="query-error" class="error" role="alert">${queryError}</p>` : null}
      <div class="table-wrap">
        <table class="hosts">
          <caption>${page ? `${total} host${total === 1 ? '' : 's'}${total > PAGE_SIZE ? `, ${filters.offset + 1}–${Math.min(filters.offset + PAGE_SIZE, total)} shown` : ''}` : 'Loading hosts…'}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th><th scope="col">Namespace</th><th scope="col">State</th><th scope="col">Phase</th>
              <th scope="col">Template</th><th scope="col">Revision</th><th scope="col">Attempt</th><th scope="col">Power</th>
              <th scope="col">Last boot request</th><th scope="col">Age</th>
            </tr>
          </thead>
          <tbody>${(page?.items ?? []).map((h) => html`<${Row} key=${`${h.namespace}/${h.name}`} host=${h} />`)}</tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled=${filters.offset === 0} onClick=${() => setFilters((f) => ({ ...f, offset: Math.max(0, f.offset - PAGE_SIZE) }))}>Previous</button>
        <button type="button" disabled=${filters.offset + PAGE_SIZE >= total} onClick=${() => setFilters((f) => ({ ...f, offset: f.offset + PAGE_SIZE }))}>Next</button>
      </nav>
    </section>
  `;
}

function Row(props: { host: HostRow }) {
  const h = props.host;
  return html`
    <tr data-host=${`${h.namespace}/${h.name}`}>
      <th scope="row"><a href=${`#/hosts/${encodeURIComponent(h.namespace)}/${encodeURIComponent(h.name)}`}>${h.name}</a></th>
      <td>${h.namespace}</td>
      <td><span class=${stateClass(h.state)} data-field="state">${h.state}</span></td>
      <td data-field="phase">${h.phase ?? '—'}${h.progress ? html` <span class="muted">(${h.progress})</span>` : null}</td>
      <td>${h.template ?? '—'}</td>
      <td>${h.revision ?? '—'}</td>
      <td>${h.attempt ?? '—'}</td>
      <td>${h.power ?? '—'}</td>
      <td>${h.lastBootRequest ? html`<time datetime=${h.lastBootRequest.time} title=${localTime(h.lastBootRequest.time)}>${age(h.lastBootRequest.time)} ago</time> ${h.lastBootRequest.served ?? ''}` : '—'}</td>
      <td><time datetime=${h.createdAt ?? ''} title=${localTime(h.createdAt)}>${age(h.createdAt)}</time></td>
    </tr>
  `;
}
