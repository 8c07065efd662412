// The host view's Kubernetes Events (what the operator recorded, the dashboard's actions), loaded when asked: they need
// RBAC to list events in the namespace.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, getJson } from './api.js';
import { localTime } from './format.js';

interface HostEventView {
  time: string;
  type: string;
  reason: string;
  action: string;
  note: string;
  count: number;
  reportingController: string;
}

export function HostEvents(props: { path: string }) {
  const [items, setItems] = useState<HostEventView[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const load = () =>
    getJson<{ items: HostEventView[] }>(`${props.path}/events`).then(
      (v) => {
        setItems(v.items);
        setError(undefined);
      },
      (err: unknown) => setError(err instanceof ApiError ? err.message : String(err)),
    );
  return html`
    <h2>Events</h2>
    ${items === undefined
      ? html`<p><button type="button" data-action="events" onClick=${() => void load()}>Show events</button> <span class="muted">(needs RBAC to list events in this namespace)</span></p>`
      : items.length
        ? html`<table class="events"><caption class="visually-hidden">Kubernetes events of the host, newest first</caption>
            <thead><tr><th scope="col">Last seen</th><th scope="col">Type</th><th scope="col">Reason</th><th scope="col">Message</th><th scope="col">Count</th></tr></thead>
            <tbody>${items.map((e) => html`<tr data-reason=${e.reason}><td>${localTime(e.time)}</td><td>${e.type}</td><td>${e.reason}</td><td>${e.note}</td><td>${e.count}</td></tr>`)}</tbody></table>
            <p><button type="button" data-action="events" onClick=${() => void load()}>Refresh events</button></p>`
        : html`<p class="muted">No events (Kubernetes keeps them for an hour by default).</p>`}
    ${error ? html`<p class="error" role="alert" data-field="events-error">${error}</p>` : null}
  `;
}
