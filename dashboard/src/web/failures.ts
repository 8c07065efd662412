// The failures view: recent failed installs across the fleet, grouped by failed stage and reason.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson } from './api.js';
import { localTime } from './format.js';

interface FailureReport {
  since: string;
  total: number;
  truncated: boolean;
  groups: { stage: string; reason: string; count: number; latest: string; attempts: { namespace: string; name: string; attempt: number; finishedAt: string }[] }[];
}

const WINDOWS = [
  ['24h', 'last 24 hours'],
  ['7d', 'last 7 days'],
  ['30d', 'last 30 days'],
] as const;

export function Failures(props: { onError: (err: unknown) => void }) {
  const [since, setSince] = useState('7d');
  const [report, setReport] = useState<FailureReport | undefined>();
  const [unavailable, setUnavailable] = useState<string | undefined>();

  useEffect(() => {
    getJson<FailureReport>(`/api/failures?since=${since}`).then(setReport, (err: unknown) => {
      if (err instanceof ApiError && err.status === 404) setUnavailable(err.message);
      else props.onError(err);
    });
  }, [since]);

  return html`
    <section aria-labelledby="failures-title">
      <div class="toolbar">
        <h1 id="failures-title">Failures</h1>
        <label>Window
          <select value=${since} onChange=${(e: Event) => setSince((e.target as HTMLSelectElement).value)}>
            ${WINDOWS.map(([v, label]) => html`<option value=${v}>${label}</option>`)}
          </select>
        </label>
      </div>
      ${unavailable
        ? html`<p class="muted">${unavailable}</p>`
        : !report
          ? html`<p role="status">Loading…</p>`
          : report.groups.length === 0
            ? html`<p>No failed installs since ${localTime(report.since)}.</p>`
            : html`
                <table class="failures">
                  <caption>${report.total} failed install${report.total === 1 ? '' : 's'} since ${localTime(report.since)}${report.truncated ? ' (the oldest left out)' : ''}, by stage and reason</caption>
                  <thead><tr><th scope="col">Stage</th><th scope="col">Reason</th><th scope="col">Installs</th><th scope="col">Latest</th><th scope="col">Hosts (most recent)</th></tr></thead>
                  <tbody>
                    ${report.groups.map(
                      (g) => html`<tr data-stage=${g.stage}>
                        <th scope="row">${g.stage}</th>
                        <td class="reason">${g.reason}</td>
                        <td>${g.count}</td>
                        <td>${localTime(g.latest)}</td>
                        <td>${g.attempts.map(
                          (a, i) => html`${i ? ', ' : ''}<a href=${`#/hosts/${encodeURIComponent(a.namespace)}/${encodeURIComponent(a.name)}`}>${a.namespace}/${a.name}</a> <span class="muted">#${a.attempt}</span>`,
                        )}</td>
                      </tr>`,
                    )}
                  </tbody>
                </table>
              `}
    </section>
  `;
}
