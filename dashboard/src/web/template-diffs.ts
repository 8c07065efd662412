// The host view's "what changed between attempts": for consecutive attempts installed from different revisions of the
// same template, a button that loads the diff of the template chain between them (kept as ControllerRevisions).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, getJson } from './api.js';

export interface InstalledTemplate {
  name: string;
  contentHash: string;
  revision?: number;
}

/** Pairs (older, newer) of consecutive attempts whose numbered template revisions differ; attempts newest first. */
export function revisionPairs(attempts: { attempt: number; template?: InstalledTemplate }[]): { name: string; from: number; to: number; attempts: [number, number] }[] {
  const pairs: { name: string; from: number; to: number; attempts: [number, number] }[] = [];
  for (let i = 0; i + 1 < attempts.length; i++) {
    const newer = attempts[i]!;
    const older = attempts[i + 1]!;
    const [a, b] = [older.template, newer.template];
    if (!a?.revision || !b?.revision || a.name !== b.name || a.revision === b.revision) continue;
    if (!pairs.some((p) => p.name === a.name && p.from === a.revision && p.to === b.revision)) pairs.push({ name: a.name, from: a.revision, to: b.revision, attempts: [older.attempt, newer.attempt] });
  }
  return pairs;
}

export function TemplateDiffs(props: { namespace: string; attempts: { attempt: number; template?: InstalledTemplate }[] }) {
  const [shown, setShown] = useState<{ key: string; text: string; error?: boolean } | undefined>();
  const pairs = revisionPairs(props.attempts);
  if (!pairs.length) return null;
  const load = (p: (typeof pairs)[number]) => {
    const key = `${p.name}/${p.from}/${p.to}`;
    getJson<{ diff: string }>(`/api/templates/${encodeURIComponent(props.namespace)}/${encodeURIComponent(p.name)}/revisions/${p.from}/${p.to}`).then(
      (r) => setShown({ key, text: r.diff || 'The same content.' }),
      (err: unknown) => setShown({ key, text: err instanceof ApiError ? err.message : String(err), error: true }),
    );
  };
  return html`
    <h3>Template changes between attempts</h3>
    <p class="toolbar">${pairs.map(
      (p) => html`<button type="button" data-diff=${`${p.from}-${p.to}`} onClick=${() => load(p)}>${`${p.name} r${p.from} → r${p.to} (attempts ${p.attempts[0]} → ${p.attempts[1]})`}</button>`,
    )}</p>
    ${shown ? (shown.error ? html`<p class="error" role="alert">${shown.text}</p>` : html`<pre class="diff" data-field="template-diff">${shown.text}</pre>`) : null}
  `;
}
