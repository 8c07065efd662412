// Why an install failed, from its installer events: the deepest FAIL and the install stage it belongs to. The stores
// use it for a FAIL reported without a message or stage (see docs/history.md).
import { stageOf } from '../install/installer-events.js';
import { CURTIN_STEP_RE, ordered, segments, type Ordered, type TimelineEvent } from './timeline.js';

export interface DerivedFailure {
  /** The install stage the failing step belongs to (partitioning, extract, curthooks, ...); null when its name says nothing. */
  stage: string | null;
  /** The failing step's description (its name when it had none). */
  reason: string;
  /** The failing event's name (normalised). */
  eventName: string;
}

// The steps subiquity runs curtin in (run_curtin_step's `name`), by the install stage they belong to.
const CURTIN_STEP_STAGES: Record<string, string> = {
  partitioning: 'partitioning',
  formatting: 'partitioning',
  extract: 'extract',
  'populate recovery': 'extract',
  swap: 'curthooks',
  curthooks: 'curthooks',
};

// subiquity's command-list controllers (subiquity/Early/run/command_N, subiquity/Late/run/command_N), which
// stageOf does not recognise by name.
const CONTROLLER_STAGES: Record<string, string> = { Early: 'early_commands', Late: 'late_commands' };

/**
 * Why an install failed, from its events: the deepest FAIL finish (the most name segments; its ancestors fail because
 * of it), the earliest on a tie. Its stage comes from its name (stageOf), else from the run_curtin_step it ran in, else
 * from the subiquity controller it belongs to. Undefined when no FAIL finish was received.
 */
export function deriveFailure(events: readonly TimelineEvent[]): DerivedFailure | undefined {
  const timeline = ordered(events);
  let failed: Ordered | undefined;
  for (const x of timeline) {
    if (x.event.eventType !== 'finish' || x.event.result !== 'FAIL') continue;
    if (!failed || segments(x.name).length > segments(failed.name).length) failed = x;
  }
  if (!failed) return undefined;
  return { stage: failedStageOf(failed, timeline), reason: failed.event.description?.trim() || failed.name, eventName: failed.name };
}

function failedStageOf(failed: Ordered, timeline: readonly Ordered[]): string | null {
  const byName = stageOf({ name: failed.name, event_type: 'finish', result: 'FAIL' });
  if (byName) return byName;
  const parts = segments(failed.name);
  const at = parts.lastIndexOf('run_curtin_step');
  if (at >= 0) {
    const stepName = parts.slice(0, at + 1).join('/');
    const starts = timeline.filter((x) => x.pos <= failed.pos && x.name === stepName && x.event.eventType === 'start');
    const descriptions = [starts.at(-1)?.event.description, failed.name === stepName ? failed.event.description : undefined];
    for (const d of descriptions) {
      const m = d ? CURTIN_STEP_RE.exec(d.trim()) : null;
      if (m) return CURTIN_STEP_STAGES[m[1]!] ?? m[1]!;
    }
  }
  if (parts[0] === 'subiquity' && parts[1] && CONTROLLER_STAGES[parts[1]]) return CONTROLLER_STAGES[parts[1]]!;
  return null;
}
