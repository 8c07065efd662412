// A line diff in the unified format (`diff -u`), for `anvil diff`, `anvil revisions` and the dashboard. Common lines
// at both ends are matched first; the rest by longest common subsequence, which is plenty for boot config files (a few
// hundred lines).

type Op = { kind: ' ' | '-' | '+'; line: string; a: number; b: number };

/** Beyond this many cells, the middle is shown as removed then added rather than aligned line by line. */
const MAX_LCS_CELLS = 16_000_000;

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function edits(a: string[], b: string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops: Op[] = [];
  for (let i = 0; i < start; i++) ops.push({ kind: ' ', line: a[i]!, a: i, b: i });
  const n = endA - start;
  const m = endB - start;
  if (n * m > MAX_LCS_CELLS) {
    for (let i = start; i < endA; i++) ops.push({ kind: '-', line: a[i]!, a: i, b: -1 });
    for (let j = start; j < endB; j++) ops.push({ kind: '+', line: b[j]!, a: -1, b: j });
  } else {
    // lcs[i][j]: the longest common subsequence of a[start+i..endA) and b[start+j..endB)
    const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i]![j] = a[start + i] === b[start + j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[start + i] === b[start + j]) {
        ops.push({ kind: ' ', line: a[start + i]!, a: start + i, b: start + j });
        i++;
        j++;
      } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
        // removals first, as diff -u prints them
        ops.push({ kind: '-', line: a[start + i]!, a: start + i, b: -1 });
        i++;
      } else {
        ops.push({ kind: '+', line: b[start + j]!, a: -1, b: start + j });
        j++;
      }
    }
  }
  for (let i = endA, j = endB; i < a.length; i++, j++) ops.push({ kind: ' ', line: a[i]!, a: i, b: j });
  return ops;
}

export interface Hunk {
  header: string;
  lines: string[];
}

/** The hunks of a unified diff with `context` lines around each change; none when the texts are equal. */
export function diffHunks(before: string, after: string, context = 3): Hunk[] {
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = edits(a, b);
  const changed = ops.map((op, i) => (op.kind === ' ' ? -1 : i)).filter((i) => i >= 0);
  if (!changed.length) return [];
  const hunks: Hunk[] = [];
  let from = 0;
  while (from < changed.length) {
    let to = from;
    while (to + 1 < changed.length && changed[to + 1]! - changed[to]! <= 2 * context) to++;
    const first = Math.max(0, changed[from]! - context);
    const last = Math.min(ops.length - 1, changed[to]! + context);
    const slice = ops.slice(first, last + 1);
    // Line numbers (1-based) where the hunk starts in each file; for an empty side, the line before it.
    const aLines = slice.filter((o) => o.kind !== '+');
    const bLines = slice.filter((o) => o.kind !== '-');
    const aStart = aLines.length ? aLines[0]!.a + 1 : countBefore(ops, first, 'a');
    const bStart = bLines.length ? bLines[0]!.b + 1 : countBefore(ops, first, 'b');
    hunks.push({ header: `@@ -${range(aStart, aLines.length)} +${range(bStart, bLines.length)} @@`, lines: slice.map((o) => `${o.kind}${o.line}`) });
    from = to + 1;
  }
  return hunks;
}

function countBefore(ops: Op[], index: number, side: 'a' | 'b'): number {
  return ops.slice(0, index).filter((o) => (side === 'a' ? o.kind !== '+' : o.kind !== '-')).length;
}

const range = (start: number, count: number): string => (count === 1 ? `${start}` : `${start},${count}`);

/** `--- label` / `+++ label` and the hunks, or '' when equal. */
export function unifiedDiff(before: string, after: string, beforeLabel: string, afterLabel: string, context = 3): string {
  const hunks = diffHunks(before, after, context);
  if (!hunks.length) return '';
  return [`--- ${beforeLabel}`, `+++ ${afterLabel}`, ...hunks.flatMap((h) => [h.header, ...h.lines])].join('\n') + '\n';
}
