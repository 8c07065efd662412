// The diff gate for images: how far a new upstream release of a distribution is from the one in use. Distributions
// number releases differently, so each version is read as up to three numbers (Ubuntu 24.04.2, Debian 12.9, Fedora
// 41, Flatcar 4081.2.1, a date 20261201): a different first number is a major step, a different second a minor one,
// anything else a patch. A release not readable as numbers is `unknown`, which a policy treats like `major`.

export type ReleaseClass = 'same' | 'patch' | 'minor' | 'major' | 'downgrade' | 'unknown';

/** "24.04.2" → [24, 4, 2]; "v12.9" / "12.9-1" → [12, 9]; undefined when it has no leading number. */
export function releaseNumbers(version: string): number[] | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version.trim());
  if (!m) return undefined;
  return m.slice(1).filter((p): p is string => p !== undefined).map(Number);
}

export function classifyRelease(current: string, candidate: string): ReleaseClass {
  const a = releaseNumbers(current);
  const b = releaseNumbers(candidate);
  if (!a || !b) return current.trim() === candidate.trim() ? 'same' : 'unknown';
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x === y) continue;
    if (y < x) return 'downgrade';
    return i === 0 ? 'major' : i === 1 ? 'minor' : 'patch';
  }
  // same numbers, different suffix (a rebuild, "24.04.2-1" after "24.04.2"): a patch
  return current.trim() === candidate.trim() ? 'same' : 'patch';
}
