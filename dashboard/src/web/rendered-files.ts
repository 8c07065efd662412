// The host view's rendered files: loaded when asked (they need RBAC to get Secrets in the namespace), each file in a
// collapsible block, the token and password hashes masked by the server.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, getJson } from './api.js';

interface RenderedFilesView {
  mode: string;
  attempt?: number;
  revision?: number;
  template?: { name: string; contentHash: string };
  files: { name: string; content: string }[];
}

export function RenderedFiles(props: { path: string }) {
  const [view, setView] = useState<RenderedFilesView | undefined>();
  const [error, setError] = useState<string | undefined>();
  const load = () =>
    getJson<RenderedFilesView>(`${props.path}/rendered`).then(
      (v) => {
        setView(v);
        setError(undefined);
      },
      (err: unknown) => setError(err instanceof ApiError ? err.message : String(err)),
    );
  return html`
    <h2>Rendered files</h2>
    ${view
      ? html`<p class="muted" data-field="rendered-summary">${view.mode === 'install' ? `Attempt ${view.attempt}, revision ${view.revision}${view.template ? `, template ${view.template.name} (${view.template.contentHash.slice(0, 19)}…)` : ''}` : 'Local boot'}; the token and password hashes are masked.</p>
          ${view.files.map((f) => html`<details class="rendered" data-file=${f.name}><summary><code>${f.name}</code></summary><pre>${f.content}</pre></details>`)}`
      : html`<p><button type="button" data-action="rendered" onClick=${() => void load()}>Show rendered files</button> <span class="muted">(needs RBAC to get Secrets in this namespace)</span></p>`}
    ${error ? html`<p class="error" role="alert" data-field="rendered-error">${error}</p>` : null}
  `;
}
