// The nunjucks environment of one render job: loads only the job's sources, refuses undefined input to every filter
// but `default`/`d`, adds anvil's filters (password_hash with the render's salts, memoized) and a bounded `range()`.
//
// Loaded by the render worker process from source in development: erasable TypeScript only.
import nunjucks from 'nunjucks';
import { ANVIL_FILTERS, FilterError, UndefinedValueError, passwordHashFilter } from './filters.js';
import { TEMPLATE_NOT_FOUND, environmentFilters } from './nunjucks-internals.js';
import { installSandbox } from './sandbox-nunjucks.js';
import { LimitError, current, undefinedMessage } from './sandbox-state.js';

/** Serves the job's sources; `name` alone means the same field as the template that loads it. */
class SourceLoader extends nunjucks.Loader {
  readonly sources: Record<string, string>;

  constructor(sources: Record<string, string>) {
    super();
    this.sources = sources;
  }

  getSource(name: string): nunjucks.LoaderSource {
    if (!Object.hasOwn(this.sources, name)) return TEMPLATE_NOT_FOUND;
    return { src: this.sources[name]!, path: name, noCache: true };
  }

  override isRelative(filename: string): boolean {
    return !filename.includes('/');
  }

  override resolve(from: string, to: string): string {
    const slash = from.indexOf('/');
    return slash < 0 ? to : `${to}/${from.slice(slash + 1)}`;
  }
}

/** Filters that are meant to handle undefined input. */
const UNDEFINED_OK = new Set(['default', 'd']);

function range(start: unknown, stop?: unknown, step?: unknown): number[] {
  let a = Number(start);
  let b = Number(stop);
  let c = step === undefined || step === null || Number(step) === 0 ? 1 : Number(step);
  if (stop === undefined) {
    b = a;
    a = 0;
    c = 1;
  }
  if (![a, b, c].every(Number.isFinite)) throw new FilterError('range() needs finite numbers');
  const length = Math.max(0, Math.ceil((b - a) / c));
  const limit = current().maxRangeLength;
  if (length > limit) throw new LimitError(`range() of ${length} items is longer than the limit of ${limit}`);
  return Array.from({ length }, (_, i) => a + i * c);
}

/** password_hash needs the render's salts; a password hashed twice in a render is computed once. */
function passwordHash(value: unknown, ...args: unknown[]): string {
  const st = current();
  let memo: string | undefined;
  try {
    memo = typeof value === 'string' ? JSON.stringify([value, args]) : undefined;
  } catch {
    memo = undefined;
  }
  const known = memo === undefined ? undefined : st.hashes.get(memo);
  if (known !== undefined) return known;
  try {
    const hashed = passwordHashFilter((v) => st.salts.get(v), value, ...args);
    if (memo !== undefined) st.hashes.set(memo, hashed);
    return hashed;
  } catch (err) {
    if (err instanceof UndefinedValueError) throw new FilterError(`password_hash: ${undefinedMessage()}`);
    throw err;
  }
}

export function createSandboxEnvironment(sources: Record<string, string>): nunjucks.Environment {
  installSandbox();
  const env = new nunjucks.Environment(new SourceLoader(sources), {
    autoescape: false,
    throwOnUndefined: true,
    // keep the TemplateError (its message carries the template path and line of the innermost error)
    dev: true,
  } as nunjucks.ConfigureOptions);
  const builtins = environmentFilters(env);
  for (const [name, filter] of Object.entries(builtins)) {
    if (UNDEFINED_OK.has(name)) continue;
    env.addFilter(name, function checked(this: unknown, value: unknown, ...rest: unknown[]) {
      if (value === undefined) throw new FilterError(`${name}: ${undefinedMessage()}`);
      return filter.call(this, value, ...rest);
    });
  }
  for (const [name, filter] of Object.entries(ANVIL_FILTERS)) {
    env.addFilter(name, (...args: unknown[]) => {
      try {
        return (filter as (...a: unknown[]) => string)(...args);
      } catch (err) {
        if (err instanceof UndefinedValueError) throw new FilterError(`${name}: ${undefinedMessage()}`);
        throw err;
      }
    });
  }
  env.addFilter('password_hash', passwordHash);
  env.addGlobal('range', range);
  return env;
}
