// What a template may read: the sandbox's replacements for nunjucks' variable and attribute lookups. Only own
// properties of plain objects, a safe subset of string and list methods, and nothing of functions: `constructor`,
// `__proto__` and friends are refused, which closes nunjucks' well-known escape to the Function constructor
// (`{{ range.constructor("...")() }}`).
//
// Loaded by the render worker process from source in development: erasable TypeScript only.
import { FilterError } from './filters.js';
import { LimitError, current, missing, nameOf, named } from './sandbox-state.js';

/** The parts of a nunjucks frame a lookup uses. */
export interface Frame {
  lookup(name: string): unknown;
}

/** The parts of a nunjucks render context a lookup uses. */
export interface Context {
  ctx: Record<string, unknown>;
  env: { globals: Record<string, unknown> };
}

/** Property names no template may read, whatever the object: the ways to the Function constructor and prototypes. */
const FORBIDDEN = new Set([
  'constructor',
  '__proto__',
  'prototype',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'caller',
  'callee',
  'arguments',
]);

const STRING_METHODS = new Set([
  'at', 'charAt', 'charCodeAt', 'codePointAt', 'concat', 'endsWith', 'includes', 'indexOf', 'lastIndexOf', 'match',
  'normalize', 'padEnd', 'padStart', 'repeat', 'replace', 'replaceAll', 'search', 'slice', 'split', 'startsWith',
  'substring', 'substr', 'toLowerCase', 'toUpperCase', 'trim', 'trimEnd', 'trimStart', 'toString',
]);

const ARRAY_METHODS = new Set([
  'at', 'concat', 'every', 'filter', 'find', 'findIndex', 'findLast', 'findLastIndex', 'flat', 'includes', 'indexOf',
  'join', 'lastIndexOf', 'map', 'slice', 'some', 'toReversed', 'toSorted',
]);

function isIndex(key: string): boolean {
  return /^(0|[1-9][0-9]*)$/.test(key);
}

/** Guards the string methods that build long strings from short arguments. */
function checkedStringMethod(s: string, method: string, args: unknown[]): unknown {
  const st = current();
  const limit = st.maxOutputChars;
  const length = method === 'repeat' ? s.length * Number(args[0]) : method === 'padStart' || method === 'padEnd' ? Number(args[0]) : 0;
  if (length > limit) {
    st.limitExceeded = `${method}() would build a string of ${length} characters (the output limit is ${limit} bytes)`;
    throw new LimitError(st.limitExceeded);
  }
  return callPrototypeMethod(String.prototype, method, s, args);
}

/** Calls the built-in method `name` of `proto` (String.prototype, Array.prototype) on `self`. */
function callPrototypeMethod(proto: object, name: string, self: unknown, args: unknown[]): unknown {
  const method: unknown = Reflect.get(proto, name);
  if (typeof method !== 'function') throw new TypeError(`${name} is not a function`);
  return Reflect.apply(method, self, args);
}

export function memberLookup(obj: unknown, key: unknown): unknown {
  const k = typeof key === 'number' ? String(key) : typeof key === 'string' ? key : String(key);
  if (FORBIDDEN.has(k)) throw new FilterError(`access to "${k}" is not allowed in templates`);
  if (obj === undefined || obj === null) return undefined; // the missing name was recorded when obj was looked up
  if (typeof obj === 'string' || obj instanceof String) {
    const s = String(obj);
    if (k === 'length') return s.length;
    if (isIndex(k)) return Number(k) < s.length ? s[Number(k)] : missing(`${nameOf(obj as object)}[${k}]`);
    if (STRING_METHODS.has(k)) return (...args: unknown[]) => checkedStringMethod(s, k, args);
    return missing(`${typeof obj === 'string' ? '(string)' : nameOf(obj)}.${k}`);
  }
  if (Array.isArray(obj)) {
    if (k === 'length') return obj.length;
    if (isIndex(k)) return Number(k) < obj.length ? named(obj[Number(k)] as unknown, `${nameOf(obj)}[${k}]`) : missing(`${nameOf(obj)}[${k}]`);
    if (ARRAY_METHODS.has(k)) {
      return (...args: unknown[]) => callPrototypeMethod(Array.prototype, k, obj, args);
    }
    return missing(`${nameOf(obj)}.${k}`);
  }
  if (typeof obj === 'object') {
    const proto = Object.getPrototypeOf(obj) as unknown;
    if (proto !== Object.prototype && proto !== null) return missing(`${nameOf(obj)}.${k}`);
    if (!Object.hasOwn(obj, k)) return missing(`${nameOf(obj)}.${k}`);
    const value = (obj as Record<string, unknown>)[k];
    if (typeof value === 'function') return (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(obj, args);
    return named(value, `${nameOf(obj)}.${k}`);
  }
  return missing(`(${typeof obj}).${k}`);
}

export function contextOrFrameLookup(context: Context, frame: Frame, name: string): unknown {
  const local = frame.lookup(name); // frames keep variables in prototype-less objects
  if (local !== undefined) return named(local, name);
  if (Object.hasOwn(context.ctx, name)) return named(context.ctx[name], name);
  if (Object.hasOwn(context.env.globals, name)) return context.env.globals[name];
  return missing(name);
}
