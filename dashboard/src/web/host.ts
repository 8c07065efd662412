// The host view: status and conditions from the cache, and the current and past attempts' timelines from the
// install history, refreshed when the event stream says the host changed.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { BASE, getJson, liveHosts } from './api.js';
import { duration, localTime, stateClass } from './format.js';
import { HostActions } from './host-actions.js';
import { PhaseChart } from './phase-chart.js';
import { RenderedFiles } from './rendered-files.js';
import { HostEvents } from './host-events.js';
import { TemplateDiffs } from './template-diffs.js';
import type { HostDetail } from './types.js';

export function Host(props: { namespace: string; name: string; onError: (err: unknown) => void }) {
  const { namespace, name, onError } = props;
  const [detail, setDetail] = useState<HostDetail | undefined>();
  const path = `/api/hosts/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

  useEffect(() => {
    let timer: number | undefined;
    const load = () => getJson<HostDetail>(path).then(setDetail, onError);
    void load();
    const stop = liveHosts(
      (e) => {
        if (e.host.namespace !== namespace || e.host.name !== name) return;
        window.clearTimeout(timer);
        timer = window.setTimeout(() => void load(), 200);
      },
      () => undefined,
    );
    return () => {
      stop();
      window.clearTimeout(timer);
    };
  }, [path]);

  if (!detail) return html`<p role="status">Loading ${namespace}/${name}…</p>`;
  const { host, status, spec } = detail;
  const current = status.currentInstall;
  return html`
    <article aria-labelledby="host-title">
      <p><a href="#/">← Fleet</a></p>
      <div class="toolbar">
        <h1 id="host-title">${host.name} <span class="muted">in ${host.namespace}</span></h1>
        <span class=${stateClass(host.state)} data-field="state">${host.state}</span>
      </div>
      <dl class="facts">
        <div><dt>Boot MAC</dt><dd>${spec.bootMACAddress}</dd></div>
        <div><dt>Template</dt><dd>${spec.templateRef ?? '—'}</dd></div>
        <div><dt>Revision</dt><dd>${spec.provisioning.revision ?? '—'}</dd></div>
        <div><dt>Attempt</dt><dd>${host.attempt ?? '—'}</dd></div>
        <div><dt>Phase</dt><dd>${host.phase ?? '—'}${host.progress ? ` (${host.progress})` : ''}</dd></div>
        <div><dt>Power</dt><dd>${host.power ?? (spec.powerControl ? 'Unknown' : 'no power control')}</dd></div>
        <div><dt>Last boot request</dt><dd>${host.lastBootRequest ? `${localTime(host.lastBootRequest.time)} (${host.lastBootRequest.served ?? '—'})` : '—'}</dd></div>
        ${status.discovery
          ? html`<div><dt>Discovered</dt><dd data-field="discovery">${[status.discovery.manufacturer, status.discovery.product, status.discovery.serial && `serial ${status.discovery.serial}`, status.discovery.arch && status.discovery.platform && `${status.discovery.arch}/${status.discovery.platform}`].filter(Boolean).join(' · ') || '—'}${status.discovery.firstSeen ? `, first seen ${localTime(status.discovery.firstSeen)}` : ''}</dd></div>`
          : null}
        <div><dt>Secrets used</dt><dd>${spec.secretRefs.length ? spec.secretRefs.map((r) => `${r.variable} ← ${r.secret}${r.key ? `/${r.key}` : ''}`).join(', ') : 'none'}</dd></div>
      </dl>
      <${HostActions} path=${path} actions=${detail.actions} revision=${spec.provisioning.revision} onDone=${() => void getJson<HostDetail>(path).then(setDetail, onError)} />
      ${status.errorMessage ? html`<p class="error" role="alert">${status.errorMessage}</p>` : null}
      ${current?.failure ? html`<p class="error">Failed stage <strong>${current.failure.stage}</strong>: ${current.failure.reason}</p>` : null}

      <h2>Install timeline</h2>
      ${detail.history === 'available'
        ? detail.attempts.length
          ? detail.attempts.map(
              (a) => html`
                <section class="attempt" aria-label=${`Attempt ${a.installation.attempt}`}>
                  <h3>
                    ${`Attempt ${a.installation.attempt}${a.current ? ' (current)' : ''} · revision ${a.installation.revision} · ${a.installation.result ?? 'running'} · ${duration(a.installation.durationSeconds)}`}
                    ${a.installation.failureStage ? html` · <span class="fail-text">failed in ${a.installation.failureStage}</span>` : null}
                  </h3>
                  <${PhaseChart} attempt=${a} title=${`Phases of attempt ${a.installation.attempt}, started ${localTime(a.installation.startedAt)}`} />
                  <p><a href=${`${BASE}${path}/installations/${a.installation.id}`} target="_blank" rel="noopener">Raw history JSON</a> · ${a.eventCount} installer events</p>
                </section>
              `,
            )
          : html`<p class="muted">No install attempts recorded yet.</p>`
        : html`<p class="muted">${detail.historyMessage ?? 'The install history is not available here: the operator serves it with --database-url (with the embedded database the boot-server holds it).'}</p>`}

      <h2>Boot requests</h2>
      ${detail.bootRequests.length
        ? html`<table class="boots"><caption class="visually-hidden">Latest boot requests</caption>
            <thead><tr><th scope="col">Time</th><th scope="col">Client</th><th scope="col">Path</th><th scope="col">Served</th></tr></thead>
            <tbody>${detail.bootRequests.map((b) => html`<tr><td>${localTime(b.time)}</td><td>${b.clientIp}</td><td><code>${b.path}</code></td><td>${b.served}</td></tr>`)}</tbody></table>`
        : html`<p class="muted">${detail.history === 'available' ? 'None recorded.' : 'Recorded in the install history (not available here).'}</p>`}

      <h2>Recent installs</h2>
      ${status.recentInstalls?.length
        ? html`<table><caption class="visually-hidden">Recent installs</caption>
            <thead><tr><th scope="col">Attempt</th><th scope="col">Revision</th><th scope="col">Template</th><th scope="col">Result</th><th scope="col">Reason</th><th scope="col">Duration</th><th scope="col">Finished</th></tr></thead>
            <tbody>${status.recentInstalls.map(
              (r) => html`<tr><td>${r.attempt}</td><td>${r.revision}</td><td>${r.template ? `${r.template.name}${r.template.revision ? ` r${r.template.revision}` : ''}` : '—'}</td><td>${r.result ?? '—'}</td><td>${r.reason ?? ''}${r.failedStage ? ` (${r.failedStage})` : ''}${r.message ? `: ${r.message}` : ''}</td><td>${duration(r.durationSeconds)}</td><td>${localTime(r.finishedAt)}</td></tr>`,
            )}</tbody></table>`
        : html`<p class="muted">None yet.</p>`}
      <${TemplateDiffs} namespace=${host.namespace} attempts=${[...(current && !current.finishedAt ? [current] : []), ...(status.recentInstalls ?? [])]} />

      <${RenderedFiles} path=${path} />

      <${HostEvents} path=${path} />

      <h2>Conditions</h2>
      ${status.conditions?.length
        ? html`<table class="conditions"><caption class="visually-hidden">Conditions</caption>
            <thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Message</th><th scope="col">Since</th></tr></thead>
            <tbody>${status.conditions.map(
              (c) => html`<tr><th scope="row">${c.type}</th><td>${c.status}</td><td>${c.reason ?? ''}</td><td>${c.message ?? ''}</td><td>${localTime(c.lastTransitionTime)}</td></tr>`,
            )}</tbody></table>`
        : html`<p class="muted">None reported.</p>`}
    </article>
  `;
}
