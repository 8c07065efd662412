// What every benchmark produces: rows of one metric each, with anvil's value and each anchor's, measured in the same
// run; printed as a table and written as JSON (bench/results/) so docs/benchmarks.md can be regenerated.

export type Better = 'higher' | 'lower';

export interface Row {
  /** The setting measured, e.g. "64 MiB, blksize 1468, windowsize 16". */
  setting: string;
  metric: string;
  unit: string;
  better: Better;
  anvil: number | null;
  /** Anchor name -> value; null when the anchor could not do it (the reason goes in `notes`). */
  anchors: Record<string, number | null>;
  /** Anchors that ran far below their quiet reference on this machine (anchor-references.ts): no ratio for this row. */
  disturbed?: Record<string, { value: number; reference: number; fraction: number }>;
}

export interface BenchmarkResult {
  name: string;
  title: string;
  /** Anchor names in column order (empty when there is no anchor for this benchmark). */
  anchorNames: string[];
  rows: Row[];
  /** Reproduce: the npm command, then the exact server and client command lines. */
  commands: string[];
  notes: string[];
  /** Load average (1 min) when the benchmark started and ended: the 2 cores may be shared. */
  load: { before: number; after: number };
  /** How many times it was measured: 2 when a first run's anchors were disturbed (anchor-references.ts). */
  attempts?: number;
  seconds: number;
}

/**
 * anvil / best anchor, where "best" is the highest or lowest anchor value depending on the metric. None when an anchor
 * of the row was disturbed: a ratio to an anchor that could not run as it does on a quiet machine says nothing.
 */
export function ratio(row: Row): number | null {
  if (row.disturbed && Object.keys(row.disturbed).length) return null;
  const values = Object.values(row.anchors).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (row.anvil === null || !values.length) return null;
  const best = row.better === 'higher' ? Math.max(...values) : Math.min(...values);
  if (best === 0) return null;
  return row.anvil / best;
}

export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

const fmtRatio = (row: Row): string => {
  if (row.disturbed && Object.keys(row.disturbed).length) return 'n/a: anchor disturbed';
  const r = ratio(row);
  return r === null ? 'n/a' : `${r.toFixed(2)}x`;
};

const fmtAnchor = (row: Row, anchor: string): string => {
  const d = row.disturbed?.[anchor];
  return d ? `${fmt(row.anchors[anchor])} (disturbed: ${Math.round(d.fraction * 100)}% of its quiet ${fmt(d.reference)})` : fmt(row.anchors[anchor]);
};

/** A Markdown table (also readable in a terminal). */
export function table(result: BenchmarkResult): string {
  const anchors = result.anchorNames;
  const header = ['setting', 'metric', 'anvil', ...anchors, ...(anchors.length ? ['ratio (anvil / best anchor)'] : [])];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const row of result.rows) {
    const metric = `${row.metric} (${row.unit}, ${row.better} is better)`;
    const cells = [row.setting, metric, fmt(row.anvil), ...anchors.map((a) => fmtAnchor(row, a)), ...(anchors.length ? [fmtRatio(row)] : [])];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function render(result: BenchmarkResult): string {
  const out = [`### ${result.title}`, '', table(result), ''];
  if (result.notes.length) out.push(...result.notes.map((n) => `- ${n}`), '');
  out.push('Reproduce:', '', '```sh', ...result.commands, '```', '');
  const attempts = result.attempts && result.attempts > 1 ? `; measured ${result.attempts} times, the first run's anchors were disturbed` : '';
  out.push(`(${result.seconds.toFixed(0)} s; load average ${result.load.before.toFixed(2)} before, ${result.load.after.toFixed(2)} after${attempts})`, '');
  return out.join('\n');
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}
