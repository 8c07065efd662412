// anvil's nunjucks filters. Pure functions, so they can be tested without a template; the sandbox wraps them.
//
// Loaded by the render worker process: keep this file to erasable TypeScript (no enums, namespaces or parameter
// properties) and import nothing but node: built-ins and files that follow the same rule, so Node can run it from
// source with type stripping.
import { isCryptHash } from './crypt-hash.js';
import { DEFAULT_ROUNDS, MIN_ROUNDS, sha512Crypt } from './sha512-crypt.js';

/** Thrown when a filter gets an undefined value; the sandbox adds the name of the undefined variable. */
export class UndefinedValueError extends Error {
  constructor(filter: string) {
    super(`${filter}: the value is undefined`);
    this.name = 'UndefinedValueError';
  }
}

/** A filter error whose message is safe to show (it never contains the value). */
export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

// Characters JSON leaves unescaped that YAML (1.1, as PyYAML reads cloud-config) treats as line breaks or does not
// allow in a document: DEL, the C1 controls (with NEL, U+0085), the line and paragraph separators, the BOM and the
// non-characters U+FFFE/U+FFFF. Escaping them keeps a quoted scalar on one line whatever the value holds.
const UNSAFE_FOR_YAML = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

/** Unwraps nunjucks SafeStrings (macro output, `| safe`) and rejects values JSON cannot represent faithfully. */
function jsonReplacer(filter: string): (key: string, value: unknown) => unknown {
  return (_key, value) => {
    if (value instanceof String) return String(value);
    if (typeof value === 'number' && !Number.isFinite(value)) throw new FilterError(`${filter}: ${value} cannot be represented`);
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function') throw new FilterError(`${filter}: a function cannot be represented`);
    return value;
  };
}

function toJsonText(filter: string, value: unknown, indent?: number): string {
  if (value === undefined) throw new UndefinedValueError(filter);
  const text = JSON.stringify(value, jsonReplacer(filter), indent);
  if (text === undefined) throw new FilterError(`${filter}: the value cannot be represented`);
  return text.replace(UNSAFE_FOR_YAML, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * `{{ value | yaml }}`: the value as a YAML flow node that cannot change the structure around it — strings are
 * always double-quoted with JSON escapes (so `a: b\n- c`, `#x`, `{{`, `yes` and multi-line text stay one string),
 * lists and mappings are single-line flow collections, numbers, booleans and null are plain. It is the JSON text of
 * the value, which every YAML 1.1 and 1.2 parser reads back as the same value.
 */
export function yamlFilter(value: unknown): string {
  return toJsonText('yaml', value);
}

/** `{{ value | json }}` (or `json(2)` for indented output): the value as JSON, safe inside YAML too. */
export function jsonFilter(value: unknown, indent?: unknown): string {
  const spaces = indent === undefined || indent === null ? undefined : Number(indent);
  if (spaces !== undefined && !(Number.isInteger(spaces) && spaces >= 0 && spaces <= 10)) {
    throw new FilterError('json: the indent must be an integer from 0 to 10');
  }
  return toJsonText('json', value, spaces);
}

function textOf(filter: string, value: unknown): string {
  if (value === undefined) throw new UndefinedValueError(filter);
  if (typeof value === 'string' || value instanceof String) return String(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new FilterError(`${filter}: expects a string, got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`);
}

/** `{{ text | b64encode }}`: base64 of the UTF-8 bytes. */
export function b64encodeFilter(value: unknown): string {
  return Buffer.from(textOf('b64encode', value), 'utf8').toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** `{{ encoded | b64decode }}`: the UTF-8 text a standard base64 string encodes (whitespace is ignored). */
export function b64decodeFilter(value: unknown): string {
  const text = textOf('b64decode', value).replace(/\s+/g, '');
  if (!BASE64.test(text)) throw new FilterError('b64decode: the value is not valid base64');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(text, 'base64'));
  } catch {
    throw new FilterError('b64decode: the decoded bytes are not UTF-8 text');
  }
}

/**
 * `{{ arg | shellquote }}`: one POSIX shell word (single-quoted), for commands in late-commands and the like. Inside
 * YAML, quote the whole command as well: `- {{ ("echo " ~ (msg | shellquote)) | yaml }}`.
 */
export function shellquoteFilter(value: unknown): string {
  return `'${textOf('shellquote', value).replaceAll("'", `'\\''`)}'`;
}

/** The most rounds password_hash computes (about 0.5 s here): more would eat up the time limit of a render. */
export const MAX_PASSWORD_HASH_ROUNDS = 50_000;

/** The salt of each secret value of a render (see password-salts.ts); a value that is not there is not a secret. */
export type SaltOf = (value: string) => string | undefined;

/**
 * `{{ secret | password_hash }}` (or `password_hash(rounds=N)`): the SHA-512 crypt ($6$) hash of a password that comes
 * from a Secret, with the salt anvil derived for it for this install attempt (so a re-render hashes the same). A
 * value that already is a crypt(3) hash is returned as it is. A value that does not come from a Secret is refused:
 * a password written in a template or in host variables is readable by whoever can read those.
 */
export function passwordHashFilter(saltOf: SaltOf, value: unknown, ...args: unknown[]): string {
  const text = textOf('password_hash', value);
  if (text === '') throw new FilterError('password_hash: the password is empty');
  if (isCryptHash(text)) return text;
  const salt = saltOf(text);
  if (salt === undefined) {
    throw new FilterError(
      "password_hash: the password does not come from a Secret: put it in a Secret referenced by the host's spec.secretRefs and hash that variable (a password written in a template or in variables is readable by anyone who can read them)",
    );
  }
  if (/[\r\n]/.test(text)) {
    throw new FilterError(
      'password_hash: the password contains a line break (a Secret made from a file that ends with a newline?): store it without one, e.g. kubectl create secret generic NAME --from-literal=password=...',
    );
  }
  return sha512Crypt(text, salt, roundsOption(args));
}

function roundsOption(args: unknown[]): { rounds?: number } {
  const last = args.at(-1);
  const keywords = typeof last === 'object' && last !== null && (last as { __keywords?: boolean }).__keywords === true ? (last as Record<string, unknown>) : undefined;
  const positional = keywords ? args.slice(0, -1) : args;
  for (const key of Object.keys(keywords ?? {})) {
    if (key !== 'rounds' && key !== '__keywords') throw new FilterError(`password_hash: unknown argument "${key}" (it takes rounds=N)`);
  }
  if (positional.length > 1) throw new FilterError('password_hash: takes one argument, rounds=N');
  const raw = keywords?.rounds ?? positional[0];
  if (raw === undefined || raw === null) return {};
  const rounds = Number(raw);
  if (!Number.isInteger(rounds) || rounds < MIN_ROUNDS || rounds > MAX_PASSWORD_HASH_ROUNDS) {
    throw new FilterError(`password_hash: rounds must be an integer from ${MIN_ROUNDS} to ${MAX_PASSWORD_HASH_ROUNDS} (the default is ${DEFAULT_ROUNDS})`);
  }
  return { rounds };
}

/** Filters that need the render's context (registered by the sandbox with it), by name. */
export const CONTEXT_FILTER_NAMES: readonly string[] = ['password_hash'];

/** The filters anvil adds to nunjucks' built-in ones. */
export const ANVIL_FILTERS: Readonly<Record<string, (...args: never[]) => string>> = {
  yaml: yamlFilter,
  json: jsonFilter,
  b64encode: b64encodeFilter,
  b64decode: b64decodeFilter,
  shellquote: shellquoteFilter,
};
