// An install's timeline from its installer events, nested by name (see docs/history.md, "Timeline"). subiquity
// names its reporting contexts as paths (subiquity/Install/install/curtin_install/run_curtin_step/cmd-install/...)
// and re-posts curtin's events under them, so a name says where a step belongs; the installer's clock and the
// order of delivery only pair starts with finishes. Used by the history API, `anvil history` and the stores (to
// derive an install's failed stage and reason).
import { CURTIN_STEP_RE, lastSegment, ordered, type Ordered, type TimelineEvent } from './timeline.js';

export { deriveFailure, type DerivedFailure } from './derive-failure.js';
export { normalizePhaseName, type TimelineEvent } from './timeline.js';

const nonEmpty = (s: string | null | undefined): string | null => (s && s.trim() ? s : null);

export interface Phase {
  /** The context's name, without trailing `/`. */
  name: string;
  /** The name below the parent's (the whole name for a root); run_curtin_step also shows its step, e.g. "run_curtin_step (partitioning)". */
  label: string;
  /** Index of the enclosing phase in the same array; null for a root. */
  parent: number | null;
  /** How many phases enclose this one. */
  depth: number;
  /** Start event time; null for a finish whose start was never received. */
  startedAt: Date | null;
  /** Finish event time, or the finish of the ancestor that closed it (see closedBy); null while open. */
  finishedAt: Date | null;
  /** Seconds between start and finish by the installer's clock (fractional); null when either is missing. */
  durationSeconds: number | null;
  /** SUCCESS/WARN/FAIL from the finish event; null while open and when closed by an ancestor (result unknown). */
  result: string | null;
  /** The start's description (the finish's when there was no start or the start's was empty). */
  description: string | null;
  /** The finish's description when it says something else (subiquity puts the error there). */
  finishDescription: string | null;
  /** A start that never got its finish is closed when an ancestor finishes: that ancestor's name. */
  closedBy: string | null;
}

/** "a/b/c" -> ["a", "a/b"]: the names of the contexts that enclose it. */
function prefixesOf(name: string): string[] {
  const out: string[] = [];
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) out.push(name.slice(0, i));
  return out;
}

interface Building {
  name: string;
  prefixes: string[];
  start?: Ordered;
  finish?: Ordered;
  /** Position before which it cannot have started (for a finish without start: after the previous same-name phase). */
  lo: number;
  /** Position of its finish or of the ancestor's finish that closed it; Infinity while open. */
  hi: number;
  closedBy?: { name: string; at: Date };
  parent?: Building | null;
  depth?: number;
  children: Building[];
}

const keyOf = (p: Building): number => p.start?.pos ?? p.finish?.pos ?? p.hi;

/** The phases of an install in tree order: each phase followed by its descendants, siblings in time order. */
export function derivePhases(events: readonly TimelineEvent[]): Phase[] {
  const timeline = ordered(events);
  const all: Building[] = [];
  const byName = new Map<string, Building[]>();
  const open = new Map<string, Building[]>(); // per name, innermost last: finishes pair last-in-first-out
  const openBelow = new Map<string, Set<Building>>(); // open phases by each of their ancestors' names
  const lastEnd = new Map<string, number>(); // per name, the latest position where one of its phases ended

  const setOpen = (p: Building, isOpen: boolean) => {
    if (isOpen) (open.get(p.name) ?? open.set(p.name, []).get(p.name)!).push(p);
    else {
      const stack = open.get(p.name)!;
      stack.splice(stack.lastIndexOf(p), 1);
    }
    for (const prefix of p.prefixes) {
      if (isOpen) (openBelow.get(prefix) ?? openBelow.set(prefix, new Set()).get(prefix)!).add(p);
      else openBelow.get(prefix)!.delete(p);
    }
  };
  const add = (p: Building) => {
    all.push(p);
    (byName.get(p.name) ?? byName.set(p.name, []).get(p.name)!).push(p);
  };

  for (const x of timeline) {
    if (x.event.eventType === 'start') {
      const p: Building = { name: x.name, prefixes: prefixesOf(x.name), start: x, lo: x.pos, hi: Infinity, children: [] };
      add(p);
      setOpen(p, true);
      continue;
    }
    let p = open.get(x.name)?.at(-1);
    if (p) setOpen(p, false);
    else {
      // A finish whose start was never received (subiquity reports load_autoinstall_config before its reporting
      // is configured): kept, with no start and no duration.
      p = { name: x.name, prefixes: prefixesOf(x.name), lo: lastEnd.get(x.name) ?? -Infinity, hi: Infinity, children: [] };
      add(p);
    }
    p.finish = x;
    p.hi = x.pos;
    lastEnd.set(p.name, x.pos);
    // Starts below it that never finished (curtin's cmd-block-meta, cmd-extract, cmd-curthooks) end with it.
    for (const q of [...(openBelow.get(x.name) ?? [])]) {
      if (q.lo <= p.lo) continue; // opened before this phase began: it belongs to an earlier one of the same name
      setOpen(q, false);
      q.hi = x.pos;
      lastEnd.set(q.name, x.pos);
      q.closedBy = { name: x.name, at: x.event.eventTime };
    }
  }

  for (const p of all) p.parent = parentOf(p, byName);
  const depthOf = (p: Building): number => (p.depth ??= p.parent ? depthOf(p.parent) + 1 : 0);
  const roots: Building[] = [];
  for (const p of all) {
    depthOf(p);
    (p.parent ? p.parent.children : roots).push(p);
  }

  const out: Phase[] = [];
  const emit = (p: Building, parent: number | null) => {
    const index = out.length;
    out.push(toPhase(p, parent));
    for (const c of [...p.children].sort((a, b) => keyOf(a) - keyOf(b))) emit(c, index);
  };
  for (const r of [...roots].sort((a, b) => keyOf(a) - keyOf(b))) emit(r, null);
  return out;
}

/**
 * The nearest phase whose name is a path-prefix of p's: of the longest such name, the instance that was open where p
 * begins (the latest one, if several), else the latest that began before p, else the first.
 */
function parentOf(p: Building, byName: Map<string, Building[]>): Building | null {
  const k = keyOf(p);
  for (let n = p.prefixes.length - 1; n >= 0; n--) {
    const candidates = byName.get(p.prefixes[n]!);
    if (!candidates) continue;
    // Candidates are in creation order, which is the order of their `lo`: find the last one that began before p.
    let lo = 0;
    let hi = candidates.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (candidates[mid]!.lo < k) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return candidates[0]!;
    // The innermost open one is nearly always the last that began; look back a bounded way for one still open at k.
    for (let i = lo - 1; i >= Math.max(0, lo - PARENT_SCAN); i--) if (k < candidates[i]!.hi) return candidates[i]!;
    return candidates[lo - 1]!;
  }
  return null;
}

/** How far back parentOf looks among same-name phases (pathological streams only come near it). */
const PARENT_SCAN = 64;

function toPhase(p: Building, parent: number | null): Phase {
  const startedAt = p.start?.event.eventTime ?? null;
  const finishedAt = p.finish?.event.eventTime ?? p.closedBy?.at ?? null;
  const startDescription = nonEmpty(p.start?.event.description);
  const finishDescription = nonEmpty(p.finish?.event.description);
  const description = startDescription ?? finishDescription;
  const base = p.parent ? p.name.slice(p.parent.name.length + 1) : p.name;
  const step = lastSegment(p.name) === 'run_curtin_step' ? curtinStepOf(p) : undefined;
  return {
    name: p.name,
    label: step ? `${base} (${step})` : base,
    parent,
    depth: p.depth ?? 0,
    startedAt,
    finishedAt,
    durationSeconds: startedAt && finishedAt ? (finishedAt.getTime() - startedAt.getTime()) / 1000 : null,
    result: p.finish?.event.result ?? null,
    description,
    finishDescription: finishDescription !== null && finishDescription !== description ? finishDescription : null,
    closedBy: p.closedBy?.name ?? null,
  };
}

/** The step a run_curtin_step phase ran: from its description, else from the curtin stage it contains. */
function curtinStepOf(p: Building): string | undefined {
  for (const d of [p.start?.event.description, p.finish?.event.description]) {
    const m = d ? CURTIN_STEP_RE.exec(d.trim()) : null;
    if (m) return m[1];
  }
  const stack = [...p.children];
  const stages: { key: number; stage: string }[] = [];
  while (stack.length) {
    const c = stack.pop()!;
    const m = /^stage-(.+)$/.exec(lastSegment(c.name));
    if (m) stages.push({ key: keyOf(c), stage: m[1]! });
    stack.push(...c.children);
  }
  return stages.sort((a, b) => a.key - b.key)[0]?.stage;
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
