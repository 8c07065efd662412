// Honest anchors: a ratio is only as good as its anchor. Each anchor cell (an anchor's value in one row) is checked
// against a reference figure of the same cell measured once on this machine while it was quiet
// (`npm run bench -- --record-references`). A cell whose anchor ran far below its reference was disturbed (the 2 cores
// were shared): the runner measures that benchmark once more, and a cell still disturbed is marked and gets no ratio.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { machineCpuSeconds } from './procs.js';
import type { BenchmarkResult, Row } from './results.js';

/** An anchor that did worse than this fraction of its quiet reference was disturbed. */
export const DISTURBED_BELOW = 0.6;
/**
 * References are recorded only from a benchmark that started on a quiet machine: less than this fraction of its CPU
 * time busy in the few seconds before (the 1-minute load average lags: it still counts the benchmark before).
 */
export const QUIET_BUSY = 0.25;

export interface ReferenceCell {
  value: number;
  /** The machine's busy fraction (all cores) just before the benchmark that measured it started. */
  busy: number;
  recordedAt: string;
}

export interface AnchorReferences {
  /** The machine they were measured on (cores, CPU model, memory): references of another machine do not apply. */
  machine: string;
  mode: 'quick' | 'full';
  cells: Record<string, ReferenceCell>;
}

export interface Disturbance {
  value: number;
  reference: number;
  /** How much of its reference the anchor did, in the metric's better direction (0.45: 45%). */
  fraction: number;
}

export const cellKey = (benchmark: string, row: Pick<Row, 'setting' | 'metric'>, anchor: string): string => `${benchmark} | ${row.setting} | ${row.metric} | ${anchor}`;

export function referencesPath(mode: 'quick' | 'full'): string {
  return process.env.ANVIL_BENCH_REFERENCES ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'anvil', `bench-anchor-references-${mode}.json`);
}

/** The references recorded on this machine in this mode, or empty ones (nothing to check against yet). */
export function loadReferences(path: string, machine: string, mode: 'quick' | 'full'): AnchorReferences {
  const empty: AnchorReferences = { machine, mode, cells: {} };
  if (!existsSync(path)) return empty;
  const refs = JSON.parse(readFileSync(path, 'utf8')) as AnchorReferences;
  return refs.machine === machine && refs.mode === mode ? refs : empty;
}

export function saveReferences(path: string, refs: AnchorReferences): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(refs, null, 2)}\n`);
}

/** How much of its reference an anchor did: above 1 when it did better than on the quiet machine. */
function fractionOf(row: Row, value: number, reference: number): number {
  if (row.better === 'higher') return reference === 0 ? 1 : value / reference;
  return value === 0 ? 1 : reference / value;
}

/** The anchor cells of `result` that did worse than DISTURBED_BELOW of their reference; marks them on each row. */
export function markDisturbed(result: BenchmarkResult, refs: AnchorReferences): number {
  let marked = 0;
  for (const row of result.rows) {
    delete row.disturbed;
    for (const [anchor, value] of Object.entries(row.anchors)) {
      const ref = refs.cells[cellKey(result.name, row, anchor)];
      if (typeof value !== 'number' || !Number.isFinite(value) || !ref) continue;
      const fraction = fractionOf(row, value, ref.value);
      if (fraction >= DISTURBED_BELOW) continue;
      (row.disturbed ??= {})[anchor] = { value, reference: ref.value, fraction };
      marked++;
    }
  }
  return marked;
}

/**
 * Takes the anchors' values of a benchmark that started on a quiet machine (`busyBefore`: the fraction of all cores
 * busy just before it) as this machine's references.
 */
export function recordReferences(refs: AnchorReferences, result: BenchmarkResult, busyBefore: number, recordedAt: string): number {
  if (busyBefore >= QUIET_BUSY) return 0;
  let recorded = 0;
  for (const row of result.rows) {
    for (const [anchor, value] of Object.entries(row.anchors)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      refs.cells[cellKey(result.name, row, anchor)] = { value, busy: busyBefore, recordedAt };
      recorded++;
    }
  }
  return recorded;
}

/** The fraction of all cores busy over the next `ms` (from /proc/stat). */
export async function machineBusy(ms = 3000): Promise<number> {
  const a = machineCpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = machineCpuSeconds();
  return b.total === a.total ? 0 : (b.busy - a.busy) / (b.total - a.total);
}
