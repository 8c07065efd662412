// One attempt's timeline as a phase chart: each phase on its row, indented by nesting, a bar placed on the attempt's
// time axis, its duration, and the failed stage highlighted with its reason. The bars are decoration (aria-hidden):
// the table's text says the same.
import { html } from 'htm/preact';
import { duration } from './format.js';
import type { AttemptView, Phase } from './types.js';

const time = (iso: string | null): number | undefined => (iso ? Date.parse(iso) : undefined);

function axis(phases: readonly Phase[]): { t0: number; span: number } | undefined {
  const times = phases.flatMap((p) => [time(p.startedAt), time(p.finishedAt)]).filter((t): t is number => t !== undefined);
  if (!times.length) return undefined;
  const t0 = Math.min(...times);
  return { t0, span: Math.max(1, Math.max(...times) - t0) };
}

export function PhaseChart(props: { attempt: AttemptView; title: string }) {
  const { phases, failedPhase } = props.attempt;
  if (!phases.length) return html`<p class="muted">No installer events recorded for this attempt.</p>`;
  const a = axis(phases);
  return html`
    <table class="phases">
      <caption>${props.title}</caption>
      <thead><tr><th scope="col">Phase</th><th scope="col">Duration</th><th scope="col">Result</th><th scope="col" class="bar-col"><span class="visually-hidden">Timeline</span></th></tr></thead>
      <tbody>
        ${phases.map((p, i) => {
          const start = time(p.startedAt) ?? time(p.finishedAt);
          const end = time(p.finishedAt) ?? start;
          const left = a && start !== undefined ? ((start - a.t0) / a.span) * 100 : 0;
          const width = a && start !== undefined && end !== undefined ? Math.max(0.5, ((end - start) / a.span) * 100) : 0;
          const failed = i === failedPhase;
          const reason = p.finishDescription ?? p.description;
          return html`
            <tr class=${failed ? 'failed' : p.result === 'FAIL' ? 'fail-parent' : ''} data-phase=${p.name}>
              <th scope="row" style=${{ paddingInlineStart: `${0.5 + p.depth * 1.1}rem` }} title=${p.name}>
                ${p.label}${failed ? html`<span class="failed-tag">failed stage</span>` : null}
                ${failed && reason ? html`<div class="reason">${reason}</div>` : null}
              </th>
              <td>${p.durationSeconds === null ? (p.finishedAt ? '—' : 'running') : duration(p.durationSeconds)}</td>
              <td>${p.result ?? (p.closedBy ? 'closed' : p.finishedAt ? '—' : 'running')}</td>
              <td class="bar-col" aria-hidden="true"><div class="track"><div class=${`bar ${p.result === 'FAIL' ? 'bar-fail' : ''}`} style=${{ left: `${left}%`, width: `${width}%` }}></div></div></td>
            </tr>
          `;
        })}
      </tbody>
    </table>
  `;
}
