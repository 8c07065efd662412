// "Did you mean": the known names closest to what was typed (a typo, a missing letter, a prefix).

/** Edit distance counting a swap of two neighbouring letters as one edit (optimal string alignment). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** Up to three known names that `typed` is probably a misspelling or an abbreviation of, closest first. */
export function suggest(typed: string, known: readonly string[]): string[] {
  const t = typed.toLowerCase();
  if (!t) return [];
  const limit = Math.max(1, Math.min(3, Math.floor(t.length / 3)));
  return known
    .map((name) => ({ name, d: name.startsWith(t) && t.length >= 2 ? 0 : distance(t, name.toLowerCase()) }))
    .filter((c) => c.d <= limit)
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
    .slice(0, 3)
    .map((c) => c.name);
}

/** `; did you mean "a" or "b"?` (formatted by `quote`), or nothing. */
export function didYouMean(typed: string, known: readonly string[], quote: (s: string) => string = (s) => `"${s}"`): string {
  const found = suggest(typed, known);
  if (!found.length) return '';
  return `; did you mean ${found.map(quote).join(found.length === 2 ? ' or ' : ', ').replace(/, ([^,]*)$/, ', or $1')}?`;
}
