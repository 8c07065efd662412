// The host view's actions: reinstall, reboot and (for a host without a template, such as a Discovered one) accept
// with a template. Each asks to be confirmed, then posts to the API; the answer (or the refusal's message) is shown.
// Only offered to a user whose RBAC lets them patch the host; an action the host does not allow says why.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, postJson } from './api.js';
import type { HostAction, HostActions as Actions } from './types.js';

const LABELS: Record<HostAction, string> = { reinstall: 'Reinstall', reboot: 'Reboot', accept: 'Accept' };

export function HostActions(props: { path: string; actions: Actions; revision: number | null; onDone: () => void }) {
  const { path, actions, revision, onDone } = props;
  const [confirming, setConfirming] = useState<HostAction | undefined>();
  const [template, setTemplate] = useState(actions.templates[0] ?? '');
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>();
  const [busy, setBusy] = useState(false);
  if (!actions.allowed) return html`<p class="muted" data-field="actions">Read-only: your RBAC does not allow patching this host.</p>`;

  const question: Record<HostAction, string> = {
    reinstall: `Reinstall: raise spec.provisioning.revision${revision !== null ? ` from ${revision} to ${revision + 1}` : ''}? The machine installs again at its next network boot.`,
    reboot: 'Reboot the machine now through its BMC?',
    accept: `Accept this machine with template ${template}? It installs at its next network boot.`,
  };
  const run = async (action: HostAction) => {
    setBusy(true);
    try {
      const answer = await postJson<{ note: string }>(`${path}/actions/${action}`, action === 'accept' ? { template } : {});
      setResult({ ok: true, text: `Done: ${answer.note}` });
      onDone();
    } catch (err) {
      setResult({ ok: false, text: err instanceof ApiError ? err.message : String(err) });
    } finally {
      setBusy(false);
      setConfirming(undefined);
    }
  };
  const button = (action: HostAction) => {
    const why = actions.unavailable[action];
    return html`<button type="button" data-action=${action} disabled=${!!why || busy} title=${why ?? ''} onClick=${() => setConfirming(action)}>${LABELS[action]}</button>`;
  };
  return html`
    <section aria-label="Actions" data-field="actions" class="toolbar">
      ${button('reinstall')} ${button('reboot')}
      ${actions.unavailable.accept
        ? null
        : html`<label>Template
            ${actions.templates.length
              ? html`<select value=${template} onChange=${(e: Event) => setTemplate((e.target as HTMLSelectElement).value)}>${actions.templates.map((t) => html`<option value=${t}>${t}</option>`)}</select>`
              : html`<input value=${template} placeholder="AutoinstallTemplate name" onInput=${(e: Event) => setTemplate((e.target as HTMLInputElement).value)} />`}
          </label>
          ${button('accept')}`}
    </section>
    ${confirming
      ? html`<div role="alertdialog" aria-label="Confirm" class="confirm toolbar">
          <span>${question[confirming]}</span>
          <button type="button" data-confirm="yes" disabled=${busy} onClick=${() => void run(confirming)}>Yes, ${LABELS[confirming].toLowerCase()}</button>
          <button type="button" data-confirm="no" onClick=${() => setConfirming(undefined)}>Cancel</button>
        </div>`
      : null}
    ${result ? html`<p class=${result.ok ? 'ok' : 'error'} role="status" data-field="action-result">${result.text}</p>` : null}
  `;
}
