// One declaration per flag of a process: its name, environment variable, type, default, help line and validation.
// The parseArgs options, the environment fallbacks, the typed values and the problems are derived here; the help text
// and the docs tables in flag-docs.ts.
import { parseArgs } from 'node:util';
import { ConfigError, parseBaseURL, parseBool, parseInteger } from './parse.js';

export type FlagKind = 'string' | 'int' | 'bool' | 'list' | 'url' | 'enum';

/** What reading a flag may look at besides its own value: the environment and the flags read before it. */
export interface ReadContext {
  env: NodeJS.ProcessEnv;
  values: Readonly<Record<string, unknown>>;
}

/** A default computed when the flag is read (from another flag or variable), shown in help as `shown`. */
export interface DerivedDefault<T> {
  shown: string;
  from: (ctx: ReadContext) => T;
}

export const derived = <T>(shown: string, from: (ctx: ReadContext) => T): DerivedDefault<T> => ({ shown, from });

/** A flag's value from the command line (a list for repeatable flags), else its environment variable, else undefined. */
export type RawValue = string | string[] | undefined;

export interface Flag<T> {
  kind: FlagKind;
  /** Long name, without the dashes. */
  name: string;
  env?: string;
  /** Placeholder of the value in help, e.g. PATH or N. */
  value: string;
  help: string;
  /** The default as help and docs show it; `computed` when it comes from elsewhere (a variable, another flag). */
  shownDefault?: { text: string; computed: boolean };
  /** Given several times on the command line, each a value; the variable separates them with `separator`. */
  repeatable?: { separator: string };
  read(raw: RawValue, ctx: ReadContext, problems: string[]): T;
}

export type FlagSet = Readonly<Record<string, Flag<unknown>>>;
export type FlagValues<S extends FlagSet> = { -readonly [K in keyof S]: S[K] extends Flag<infer T> ? T : never };
/** A process's flags in groups (e.g. its own, HTTPS, certificates), in help order; values come back per group. */
export type FlagGroups = Readonly<Record<string, FlagSet>>;
export type GroupValues<G extends FlagGroups> = { -readonly [K in keyof G]: FlagValues<G[K]> };

interface Declared {
  name: string;
  env?: string;
  value?: string;
  help: string;
}
/** Problem with a value, or undefined when it is fine. */
type Check = (value: string) => string | undefined;

const single = (raw: RawValue): string | undefined => (Array.isArray(raw) ? raw.at(-1) : raw);
const checked = (value: string, check: Check | undefined, problems: string[]): string => {
  const problem = check?.(value);
  if (problem) problems.push(problem);
  return value;
};
const resolve = <T>(d: T | DerivedDefault<T>, ctx: ReadContext): T => (isDerived(d) ? d.from(ctx) : d);
const isDerived = <T>(d: T | DerivedDefault<T>): d is DerivedDefault<T> => typeof d === 'object' && d !== null && 'from' in d;
const shown = <T>(d: T | DerivedDefault<T>): Flag<T>['shownDefault'] => (isDerived(d) ? { text: d.shown, computed: true } : { text: String(d), computed: false });

/** Free text. Without a default an empty value counts as unset. */
export function text(spec: Declared & { check?: Check }): Flag<string | undefined>;
export function text(spec: Declared & { default: string | DerivedDefault<string>; check?: Check }): Flag<string>;
export function text(spec: Declared & { default?: string | DerivedDefault<string>; check?: Check }): Flag<string | undefined> {
  const { default: fallback, check } = spec;
  return {
    ...base('string', spec, 'VALUE'),
    ...(fallback === undefined ? {} : { shownDefault: shown(fallback) }),
    read: (raw, ctx, problems) => {
      const v = single(raw);
      if (fallback === undefined) return v ? checked(v, check, problems) : undefined;
      return checked(v ?? resolve(fallback, ctx), check, problems);
    },
  };
}

/** An integer in [min, max]; `label` names it in the problem. */
export function int(spec: Declared & { label: string; default: number; min: number; max: number }): Flag<number> {
  return {
    ...base('int', spec, 'N'),
    shownDefault: shown(spec.default),
    read: (raw, _ctx, problems) => parseInteger(spec.label, single(raw) ?? String(spec.default), spec.min, spec.max, problems),
  };
}

export function bool(spec: Declared & { label: string; default: boolean }): Flag<boolean> {
  return {
    ...base('bool', spec, 'BOOL'),
    shownDefault: shown(spec.default),
    read: (raw, _ctx, problems) => parseBool(spec.label, single(raw) ?? String(spec.default), problems),
  };
}

/** An http(s) base URL, trailing slashes removed. */
export function url(spec: Declared & { label: string; default: string | DerivedDefault<string> }): Flag<string> {
  return {
    ...base('url', spec, 'URL'),
    shownDefault: shown(spec.default),
    read: (raw, ctx, problems) => parseBaseURL(spec.label, single(raw) ?? resolve(spec.default, ctx), problems),
  };
}

/** One of a few words; the problem lists them. */
export function choice<const C extends string>(spec: Declared & { label: string; choices: readonly C[]; default: C }): Flag<C> {
  const { label, choices } = spec;
  const expected = choices.length === 2 ? `${choices[0]} or ${choices[1]}` : `one of ${choices.join(', ')}`;
  return {
    ...base('enum', spec, choices.join('|')),
    shownDefault: shown(spec.default),
    read: (raw, _ctx, problems) => {
      const v = single(raw) ?? spec.default;
      if (!choices.includes(v as C)) problems.push(`${label} must be ${expected}, got "${v}"`);
      return v as C;
    },
  };
}

/**
 * Values separated by `separator`, blanks dropped, each checked. A repeatable list takes one value per flag instead
 * (its variable still separates them).
 */
export function list(spec: Declared & { separator: string; repeatable?: boolean; check?: Check }): Flag<string[]> {
  const { separator, check } = spec;
  return {
    ...base('list', spec, 'VALUE'),
    ...(spec.repeatable ? { repeatable: { separator } } : {}),
    read: (raw, _ctx, problems) => {
      const items = Array.isArray(raw) ? raw : (raw ?? '').split(separator).map((s) => s.trim()).filter(Boolean);
      return items.map((item) => checked(item, check, problems));
    },
  };
}

function base(kind: FlagKind, spec: Declared, placeholder: string): Omit<Flag<never>, 'read'> {
  return { kind, name: spec.name, ...(spec.env ? { env: spec.env } : {}), value: spec.value ?? placeholder, help: spec.help };
}

export const flagsOf = (groups: FlagGroups): Flag<unknown>[] => Object.values(groups).flatMap((set) => Object.values(set));

/**
 * Reads every flag from argv, falling back to its environment variable and then its default. Returns 'help' for --help;
 * throws ConfigError for a command line parseArgs refuses. Problems with values are collected, not thrown, so the
 * caller can add its cross-flag checks and report everything at once.
 */
export function readFlags<G extends FlagGroups>(groups: G, argv: string[], env: NodeJS.ProcessEnv): { values: GroupValues<G>; problems: string[] } | 'help' {
  const flags = flagsOf(groups);
  let parsed: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values: parsed } = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(flags.map((f) => [f.name, { type: 'string' as const, multiple: !!f.repeatable }])),
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
  if (parsed.help) return 'help';
  const problems: string[] = [];
  const readSoFar: Record<string, unknown> = {};
  const ctx: ReadContext = { env, values: readSoFar };
  const values = Object.fromEntries(
    Object.entries(groups).map(([group, set]) => {
      const groupValues: Record<string, unknown> = {};
      for (const [key, flag] of Object.entries(set)) {
        const raw = (parsed[flag.name] as string | string[] | undefined) ?? (flag.env === undefined ? undefined : env[flag.env]);
        readSoFar[key] = groupValues[key] = flag.read(raw, ctx, problems);
      }
      return [group, groupValues];
    }),
  );
  return { values: values as GroupValues<G>, problems };
}

/**
 * A process's configuration from its flags: `build` adds what spans several flags (its own problems included); throws
 * ConfigError with every problem, or returns 'help' for --help.
 */
export function configFromFlags<G extends FlagGroups, C>(groups: G, argv: string[], env: NodeJS.ProcessEnv, build: (values: GroupValues<G>, problems: string[]) => C): C | 'help' {
  const read = readFlags(groups, argv, env);
  if (read === 'help') return 'help';
  const config = build(read.values, read.problems);
  if (read.problems.length) throw new ConfigError(read.problems);
  return config;
}
