// The templates view: AutoinstallTemplates (installer, chain, content hash, which hosts use it and whether each was
// rendered with the current content) and ProxmoxTemplates (phase, versions, the build in progress, recent builds).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { duration, localTime, stateClass } from './format.js';

interface TemplateHost {
  name: string;
  state: string;
  revision: number | null;
  attempt: number | null;
  contentHash: string | null;
  upToDate: boolean | null;
}

interface AutoinstallRow {
  namespace: string;
  name: string;
  installer: string;
  extends: string | null;
  chain: string[];
  valid: string | null;
  validMessage: string | null;
  contentHash: string | null;
  hostCount: number;
  hosts: TemplateHost[] | null;
  hostsTruncated: boolean;
  revision: number | null;
  rollout: { phase: string; targetRevision: number | null; previousRevision: number | null; wave: number | null; waves: number; failedHosts: string[]; message: string | null } | null;
}

interface ProxmoxRow {
  namespace: string;
  name: string;
  phase: string | null;
  activeVersion: number | null;
  vmid: number | null;
  templateName: string | null;
  message: string | null;
  versions: { version: number; vmid: number; name: string | null; createdAt: string | null }[];
  build: { version: number | null; step: string | null; startedAt: string | null; failures: number } | null;
  currentTask: { type: string | null; node: string | null; startedAt: string | null } | null;
  lastFailedTask: { type: string | null; exitStatus: string | null; finishedAt: string | null } | null;
  builds: { version: string; startedAt: string; finishedAt: string | null; durationSeconds: number | null; result: string | null; failureReason: string | null }[];
}

interface TemplatesView {
  autoinstall: AutoinstallRow[];
  proxmox: ProxmoxRow[];
  history: 'available' | 'unavailable';
}

const shortHash = (hash: string | null): string => (hash ? hash.replace(/^sha256:/, '').slice(0, 12) : '—');
const hostLink = (namespace: string, name: string) => `#/hosts/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

function HostsCell(props: { t: AutoinstallRow }) {
  const { t } = props;
  if (!t.hosts) return html`<span class="muted">not shown (no RBAC to list hosts here)</span>`;
  if (!t.hosts.length) return html`<span class="muted">none</span>`;
  return html`<ul class="plain">
    ${t.hosts.map(
      (h) => html`<li data-template-host=${h.name}>
        <a href=${hostLink(t.namespace, h.name)}>${h.name}</a> <span class=${stateClass(h.state)}>${h.state}</span>
        <span class="muted"> rev ${h.revision ?? '—'}, rendered with </span><code title=${h.contentHash ?? 'not recorded'}>${shortHash(h.contentHash)}</code>
        ${h.upToDate === false ? html` <span class="fail-text">(older content)</span>` : null}
      </li>`,
    )}
    ${t.hostsTruncated ? html`<li class="muted">… and ${t.hostCount - t.hosts.length} more</li>` : null}
  </ul>`;
}

function AutoinstallTable(props: { items: AutoinstallRow[] }) {
  if (!props.items.length) return html`<p>No AutoinstallTemplates you may list.</p>`;
  return html`<div class="table-wrap"><table class="templates">
    <caption>${props.items.length} AutoinstallTemplate${props.items.length === 1 ? '' : 's'}; the content hash of each host's current attempt comes from the install history</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">Namespace</th><th scope="col">Installer</th><th scope="col">Chain</th><th scope="col">Valid</th><th scope="col">Revision</th><th scope="col">Rollout</th><th scope="col">Hosts</th><th scope="col">Used by</th></tr></thead>
    <tbody>
      ${props.items.map(
        (t) => html`<tr data-template=${`${t.namespace}/${t.name}`}>
          <th scope="row">${t.name}</th>
          <td>${t.namespace}</td>
          <td>${t.installer}</td>
          <td>${t.chain.length ? t.chain.join(' → ') : t.extends ? `extends ${t.extends}` : '—'}</td>
          <td>${t.valid ?? '—'}${t.validMessage ? html`<div class="fail-text reason">${t.validMessage}</div>` : null}</td>
          <td>${t.revision ?? '—'} <code title=${t.contentHash ?? 'not resolved yet'}>${shortHash(t.contentHash)}</code></td>
          <td data-field="rollout"><${RolloutCell} r=${t.rollout} /></td>
          <td data-field="hostCount">${t.hostCount}</td>
          <td><${HostsCell} t=${t} /></td>
        </tr>`,
      )}
    </tbody>
  </table></div>`;
}

function RolloutCell(props: { r: AutoinstallRow['rollout'] }) {
  const r = props.r;
  if (!r) return html`<span class="muted">no policy</span>`;
  const wave = r.phase === 'Rolling' || r.phase === 'Paused' || r.phase === 'AwaitingWindow' ? `, wave ${(r.wave ?? 0) + 1} of ${r.waves}` : '';
  return html`<span class=${stateClass(r.phase === 'RollbackFailed' || r.phase === 'RollingBack' || r.phase === 'RolledBack' ? 'Failed' : r.phase === 'Completed' || r.phase === 'Idle' ? 'Provisioned' : 'Installing')}>${r.phase}</span>${r.targetRevision !== null ? ` → ${r.targetRevision}` : ''}${wave}
    ${r.failedHosts.length ? html`<div class="fail-text reason">failed: ${r.failedHosts.join(', ')}</div>` : null}
    ${r.message ? html`<div class="muted reason">${r.message}</div>` : null}`;
}

function ProxmoxTable(props: { items: ProxmoxRow[] }) {
  if (!props.items.length) return html`<p>No ProxmoxTemplates you may list.</p>`;
  return html`<div class="table-wrap"><table class="templates">
    <caption>${props.items.length} ProxmoxTemplate${props.items.length === 1 ? '' : 's'}; build durations from the install history</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">Namespace</th><th scope="col">Phase</th><th scope="col">Active version</th><th scope="col">Versions</th><th scope="col">Build in progress</th><th scope="col">Recent builds</th></tr></thead>
    <tbody>
      ${props.items.map(
        (t) => html`<tr data-proxmox-template=${`${t.namespace}/${t.name}`}>
          <th scope="row">${t.name}</th>
          <td>${t.namespace}</td>
          <td><span class=${stateClass(t.phase ?? 'pending')}>${t.phase ?? 'Pending'}</span>${t.message ? html`<div class="muted reason">${t.message}</div>` : null}</td>
          <td>${t.activeVersion ?? '—'}${t.vmid ? html` <span class="muted">(VMID ${t.vmid}${t.templateName ? `, ${t.templateName}` : ''})</span>` : null}</td>
          <td>${t.versions.length ? t.versions.map((v) => `v${v.version} (${v.vmid})`).join(', ') : '—'}</td>
          <td>
            ${t.build ? html`v${t.build.version ?? '?'}: ${t.build.step ?? 'starting'} since ${localTime(t.build.startedAt)}${t.build.failures ? html`, <span class="fail-text">${t.build.failures} failed</span>` : null}` : '—'}
            ${t.currentTask ? html`<div class="muted">task ${t.currentTask.type ?? '?'} on ${t.currentTask.node ?? '?'} since ${localTime(t.currentTask.startedAt)}</div>` : null}
            ${t.lastFailedTask ? html`<div class="fail-text">last failed task: ${t.lastFailedTask.type ?? '?'}: ${t.lastFailedTask.exitStatus ?? ''}</div>` : null}
          </td>
          <td>${t.builds.length ? html`<ul class="plain">${t.builds.map((b) => html`<li>v${b.version}: ${b.result ?? 'running'}, ${duration(b.durationSeconds)} <span class="muted">(${localTime(b.startedAt)})</span></li>`)}</ul>` : '—'}</td>
        </tr>`,
      )}
    </tbody>
  </table></div>`;
}

export function Templates(props: { onError: (err: unknown) => void }) {
  const [view, setView] = useState<TemplatesView | undefined>();
  useEffect(() => {
    getJson<TemplatesView>('/api/templates').then(setView, props.onError);
  }, []);
  return html`
    <section aria-labelledby="templates-title">
      <h1 id="templates-title">Templates</h1>
      ${!view
        ? html`<p role="status">Loading…</p>`
        : html`
            ${view.history === 'unavailable' ? html`<p class="muted">The install history is not available here (the operator runs without --database-url): no content hashes per host, no build durations.</p>` : null}
            <h2>AutoinstallTemplates</h2>
            <${AutoinstallTable} items=${view.autoinstall} />
            <h2>ProxmoxTemplates</h2>
            <${ProxmoxTable} items=${view.proxmox} />
          `}
    </section>
  `;
}
