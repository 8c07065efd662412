// Helpers for validating flags and environment variables, shared by every anvil process.

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function parseBool(name: string, v: string, problems: string[]): boolean {
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  problems.push(`${name} must be true or false, got "${v}"`);
  return false;
}

export function parseInteger(name: string, v: string, min: number, max: number, problems: string[]): number {
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || n < min || n > max) {
    problems.push(`${name} must be an integer between ${min} and ${max}, got "${v}"`);
    return min;
  }
  return n;
}

/** Checks a namespace name; the problem names it as `what` (e.g. "leader election namespace"). */
export const namespaceCheck =
  (what: string) =>
  (ns: string): string | undefined =>
    NAMESPACE_PATTERN.test(ns) && ns.length <= 63 ? undefined : `${what} "${ns}" is not a valid namespace name`;

/** An http(s) base URL without query or fragment, trailing slashes removed. */
export function parseBaseURL(name: string, v: string, problems: string[]): string {
  const url = v.replace(/\/+$/, '');
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    if (u.search || u.hash) throw new Error('query');
  } catch {
    problems.push(`${name} must be an http(s) URL without query, e.g. http://10.0.0.2:8080, got "${v}"`);
  }
  return url;
}

/**
 * Loads a process's configuration, or ends the process: --help prints the help (exit 0), invalid configuration
 * prints every problem and the help (exit 2).
 */
export function configOrExit<T>(load: (argv: string[], env: NodeJS.ProcessEnv) => T | 'help', helpText: () => string): T {
  let config: T | 'help';
  try {
    config = load(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n\n${helpText()}`);
    process.exit(2);
  }
  if (config === 'help') {
    process.stdout.write(helpText());
    process.exit(0);
  }
  return config;
}
