// An install's timeline from its installer events: each `start` is paired with the next `finish` of the same name
// (innermost first, as subiquity/curtin nest them), giving phases with durations. Used by the history API and
// `anvil history`.

export interface TimelineEvent {
  name: string;
  eventType: string;
  result: string | null;
  description: string | null;
  eventTime: Date;
}

export interface Phase {
  name: string;
  /** How many phases enclose this one. */
  depth: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Seconds between start and finish (fractional); null when either is missing. */
  durationSeconds: number | null;
  /** SUCCESS/WARN/FAIL from the finish event; null while unfinished. */
  result: string | null;
  description: string | null;
}

export function derivePhases(events: readonly TimelineEvent[]): Phase[] {
  // Installers stamp events with coarse clocks, so ties are common: at equal times a phase's own start comes before
  // its finish, and otherwise finishes come before starts (one step ends, the next begins).
  const sorted = [...events].sort((a, b) => a.eventTime.getTime() - b.eventTime.getTime() || tieOrder(a, b));
  const phases: Phase[] = [];
  const open: Phase[] = [];
  for (const e of sorted) {
    if (e.eventType === 'start') {
      const p: Phase = { name: e.name, depth: open.length, startedAt: e.eventTime, finishedAt: null, durationSeconds: null, result: null, description: e.description };
      phases.push(p);
      open.push(p);
    } else if (e.eventType === 'finish') {
      let i = open.length - 1;
      while (i >= 0 && open[i]!.name !== e.name) i--;
      if (i < 0) {
        // A finish whose start we never saw (lost before anvil, or pruned): keep it, with no duration.
        phases.push({ name: e.name, depth: open.length, startedAt: null, finishedAt: e.eventTime, durationSeconds: null, result: e.result, description: e.description });
        continue;
      }
      const p = open[i]!;
      open.splice(i); // phases opened inside it and never finished end with it
      p.finishedAt = e.eventTime;
      p.durationSeconds = (e.eventTime.getTime() - p.startedAt!.getTime()) / 1000;
      p.result = e.result;
      if (e.description) p.description ??= e.description;
    }
  }
  return phases;
}

function tieOrder(a: TimelineEvent, b: TimelineEvent): number {
  if (a.eventType === b.eventType) return 0;
  const aFirst = a.name === b.name ? a.eventType === 'start' : a.eventType === 'finish';
  return aFirst ? -1 : 1;
}

/** 75 -> "1m15s", 3725 -> "1h02m05s", 0.4 -> "0s". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}h${String(m).padStart(2, '0')}m${String(sec).padStart(2, '0')}s`;
  if (m) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}
