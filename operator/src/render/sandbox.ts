// The nunjucks sandbox: renders one job (the sources of a resolved template and a context) with the limits and
// hardening anvil needs. It runs inside a render worker process (render-worker.ts), never in the operator: installSandbox()
// patches the nunjucks module of the process it runs in.
//
// What the sandbox changes compared with plain nunjucks (autoescape off, throwOnUndefined on):
// - Variable and attribute lookups only see own properties of plain objects, a safe subset of string and list
//   methods, and nothing of functions: `constructor`, `__proto__` and friends are refused, which closes nunjucks'
//   well-known escape to the Function constructor (`{{ range.constructor("...")() }}`).
// - Undefined values are errors that name the variable (`undefined variable "host.rack"`), also when passed to a
//   filter (every filter but `default`/`d` refuses undefined input), not only when output.
// - Output is counted as it is produced: a render that produces more than OUTPUT_WORK_FACTOR x maxOutputBytes
//   characters in total (counting the output of macros and includes where they are produced) is stopped at once,
//   and the finished files together must not exceed maxOutputBytes.
// - `range()` refuses to build lists longer than maxRangeLength; `repeat`, `padStart` and `padEnd` refuse results
//   longer than the output limit. Time and memory are limited by the worker process (renderer.ts).
// - Errors raised by a filter carry the line and column of the filter, and every error names the template whose
//   code raised it (nunjucks names the template being rendered, even for an error in its base or an include).
// - The callee name nunjucks quotes into compiled code is quoted properly (a crafted string literal could otherwise
//   inject JavaScript into the compiled template).
//
// Loaded by the render worker process from source in development: erasable TypeScript only, relative imports only of
// files that follow the same rule.
import nunjucks from 'nunjucks';
import { ANVIL_FILTERS, FilterError, UndefinedValueError, passwordHashFilter } from './filters.js';
import type { TemplateField } from './errors.js';

export interface SandboxLimits {
  /** Upper bound of the bytes (UTF-8) of all rendered files together. */
  maxOutputBytes: number;
  /** The longest list `range()` builds. */
  maxRangeLength: number;
}

export interface RenderJob {
  /** Template sources by template id (`<name>/<field>`): all a render may load. */
  sources: Record<string, string>;
  /** The template id to render for each file. */
  entries: Partial<Record<TemplateField, string>>;
  context: Record<string, unknown>;
  limits: SandboxLimits;
  /** The password_hash salt of each secret value, as [value, salt] (see password-salts.ts). */
  passwordSalts?: readonly (readonly [string, string])[];
}

export interface SandboxProblem {
  kind: 'render' | 'output-limit';
  field: TemplateField;
  template?: string;
  line?: number;
  column?: number;
  message: string;
}

export type RenderJobResult = { ok: true; outputs: Partial<Record<TemplateField, string>> } | { ok: false; problems: SandboxProblem[] };

/** Output produced while rendering may exceed maxOutputBytes by this factor (macro output counts twice...). */
export const OUTPUT_WORK_FACTOR = 4;

/** Render order: every file is rendered even if an earlier one fails, so all problems are reported at once. */
const FIELD_ORDER: readonly TemplateField[] = ['userData', 'metaData', 'networkConfig', 'vendorData', 'kernelArgs'];

// ------------------------------------------------------------------------------------------------- nunjucks internals

type Fn = (...args: never[]) => unknown;
interface Frame {
  lookup(name: string): unknown;
}
interface Context {
  ctx: Record<string, unknown>;
  env: { globals: Record<string, unknown> };
}
interface CompilerNode {
  lineno: number;
  colno: number;
  children: CompilerNode[];
  value?: unknown;
  name?: CompilerNode;
  args?: CompilerNode;
}
interface CompilerThis {
  buffer: string;
  _emit(code: string): void;
  _emitLine(code: string): void;
  compile(node: CompilerNode, frame: unknown): void;
  compileLiteral(node: CompilerNode, frame: unknown): void;
  assertType(node: CompilerNode | undefined, type: unknown): void;
  _compileAggregate(node: CompilerNode | undefined, frame: unknown, startChar?: string, endChar?: string): void;
  _compileExpression(node: CompilerNode | undefined, frame: unknown): void;
  _getNodeName(node: CompilerNode | undefined): string;
}
interface Internals {
  runtime: Record<string, unknown> & { SafeString: new (val: string) => object };
  compiler: { Compiler: { prototype: Record<string, unknown> } };
  nodes: { TemplateData: Fn; Symbol: Fn };
  lib: {
    TemplateError: new (message: string, lineno?: number, colno?: number) => Error;
    _prettifyError(path: string, withInternals: boolean, err: unknown): Error;
  };
}
const nj = nunjucks as unknown as typeof nunjucks & Internals;

// ------------------------------------------------------------------------------------------------ per-render state

interface RenderState {
  /** The name of the lookup that last gave undefined, since the current output expression started. */
  lastMiss?: string;
  /** The name of the lookup that last gave null. */
  lastNull?: string;
  /** Names of looked-up objects, to name `host.rack` when `rack` is missing from host. */
  names: WeakMap<object, string>;
  /** Characters output so far (all buffers) and the limit. */
  work: number;
  maxWork: number;
  maxOutputChars: number;
  maxRangeLength: number;
  /** Set when the output limit stopped the render. */
  limitExceeded?: string;
  /** password_hash: the salt of each secret value, and the hashes computed so far (by value and arguments). */
  salts: Map<string, string>;
  hashes: Map<string, string>;
}

let state: RenderState | undefined;

function current(): RenderState {
  if (!state) throw new Error('no render in progress');
  return state;
}

function named<T>(value: T, name: string): T {
  if (state) {
    if (typeof value === 'object' && value !== null) state.names.set(value, name);
    else if (value === null) state.lastNull = name;
  }
  return value;
}

function missing(name: string): undefined {
  if (state) state.lastMiss = name;
  return undefined;
}

function nameOf(obj: object): string {
  return state?.names.get(obj) ?? '(value)';
}

function undefinedMessage(): string {
  const name = state?.lastMiss;
  return name ? `undefined variable "${name}"` : 'the value is undefined';
}

function nullMessage(): string {
  const name = state?.lastNull;
  return name ? `"${name}" is null` : 'the value is null';
}

class LimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LimitError';
  }
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
  return (String.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!.apply(s, args);
}

function memberLookup(obj: unknown, key: unknown): unknown {
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
      const method = (Array.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[k]!;
      return (...args: unknown[]) => method.apply(obj, args);
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

function contextOrFrameLookup(context: Context, frame: Frame, name: string): unknown {
  const local = frame.lookup(name); // frames keep variables in prototype-less objects
  if (local !== undefined) return named(local, name);
  if (Object.hasOwn(context.ctx, name)) return named(context.ctx[name], name);
  if (Object.hasOwn(context.env.globals, name)) return context.env.globals[name];
  return missing(name);
}

function ensureDefined(value: unknown, lineno: number, colno: number): unknown {
  if (value === undefined) throw new nj.lib.TemplateError(undefinedMessage(), lineno + 1, colno + 1);
  if (value === null) throw new nj.lib.TemplateError(nullMessage(), lineno + 1, colno + 1);
  return value;
}

/** Called before each output expression is evaluated. */
function beginExpression(): void {
  if (state) {
    state.lastMiss = undefined;
    state.lastNull = undefined;
  }
}

/** Called with every piece of output, in whatever buffer (template, block, macro, capture) it goes. */
function countOutput(text: unknown): unknown {
  const s = current();
  s.work += typeof text === 'string' ? text.length : String(text).length;
  if (s.work > s.maxWork) {
    s.limitExceeded = `rendering produced more than ${s.maxWork} characters of output (the limit is ${s.maxOutputChars} bytes)`;
    throw new LimitError(s.limitExceeded);
  }
  return text;
}

let installed = false;

/** Patches this process's nunjucks runtime and compiler. Idempotent. */
export function installSandbox(): void {
  if (installed) return;
  installed = true;
  const rt = nj.runtime;
  rt.memberLookup = memberLookup;
  rt.contextOrFrameLookup = contextOrFrameLookup;
  rt.ensureDefined = ensureDefined;
  rt.anvilBegin = beginExpression;
  rt.anvilOut = countOutput;

  const TemplateData = nj.nodes.TemplateData;
  const SymbolNode = nj.nodes.Symbol;
  const proto = nj.compiler.Compiler.prototype;
  // Every output, literal or expression, goes through runtime.anvilOut; expressions reset the undefined-name
  // tracking first and are always checked for undefined (as with throwOnUndefined).
  proto.compileOutput = function compileOutput(this: CompilerThis, node: CompilerNode, frame: unknown): void {
    for (const child of node.children) {
      if (child instanceof TemplateData) {
        if (child.value) {
          this._emit(`${this.buffer} += runtime.anvilOut(`);
          this.compileLiteral(child, frame);
          this._emitLine(');');
        }
      } else {
        this._emit(`${this.buffer} += runtime.anvilOut(runtime.suppressValue(runtime.ensureDefined((runtime.anvilBegin(), `);
        this.compile(child, frame);
        this._emit(`), ${node.lineno}, ${node.colno}), env.opts.autoescape));\n`);
      }
    }
  };
  // Filters record their position, so an error raised by a filter points at the filter (lines are 1-based there).
  proto.compileFilter = function compileFilter(this: CompilerThis, node: CompilerNode, frame: unknown): void {
    this.assertType(node.name, SymbolNode);
    const name = JSON.stringify(String(node.name?.value));
    this._emit(`(lineno = ${node.lineno + 1}, colno = ${node.colno + 1}, env.getFilter(${name}).call(context, `);
    this._compileAggregate(node.args, frame);
    this._emit('))');
  };
  // Function calls: nunjucks records their position 0-based, and quotes the callee's name (used in its error
  // message) by escaping only `"`, so a string literal ending in a backslash breaks out of the generated JavaScript
  // string: with L = "\\\", context, [])), env.opts.autoescape); code; //", `{{ {L: cycler}[L]() }}` runs `code`.
  // JSON.stringify quotes it.
  proto.compileFunCall = function compileFunCall(this: CompilerThis, node: CompilerNode, frame: unknown): void {
    this._emit(`(lineno = ${node.lineno + 1}, colno = ${node.colno + 1}, runtime.callWrap(`);
    this._compileExpression(node.name, frame);
    this._emit(`, ${JSON.stringify(this._getNodeName(node.name))}, context, `);
    this._compileAggregate(node.args, frame, '[', '])');
    this._emit(')');
  };

  // Errors are attributed to the template whose code raised them. nunjucks names only the template being rendered,
  // so an error in a base template's code (run through {% extends %}), in a block defined by another template, or in
  // a template run by {% import %} would carry the wrong template with the right line. Every compiled function
  // (root and blocks) labels the errors it catches with its own template first.
  const handleError = rt.handleError as (e: unknown, lineno: number, colno: number) => unknown;
  rt.anvilHandleError = (e: unknown, lineno: number, colno: number, template: string) => label(handleError(e, lineno, colno), template);
  proto._emitFuncEnd = function emitFuncEnd(this: CompilerThis & { templateName: string; _closeScopeLevels(): void }, noReturn?: boolean): void {
    if (!noReturn) this._emitLine(`cb(null, ${this.buffer});`);
    this._closeScopeLevels();
    this._emitLine('} catch (e) {');
    this._emitLine(`  cb(runtime.anvilHandleError(e, lineno, colno, ${JSON.stringify(String(this.templateName))}));`);
    this._emitLine('}');
    this._emitLine('}');
    (this as { buffer: string | null }).buffer = null;
  };
}

/** Labels an error with the template it comes from, unless an inner template did already. */
function label(err: unknown, template: string): unknown {
  if (err && typeof err === 'object' && (err as { anvilLabelled?: boolean }).anvilLabelled) return err;
  const out = nj.lib._prettifyError(template, true, err) as Error & { anvilLabelled?: boolean };
  out.anvilLabelled = true;
  return out;
}

// ------------------------------------------------------------------------------------------------------ environment

/** Serves the job's sources; `name` alone means the same field as the template that loads it. */
class SourceLoader extends nunjucks.Loader {
  readonly sources: Record<string, string>;

  constructor(sources: Record<string, string>) {
    super();
    this.sources = sources;
  }

  getSource(name: string): nunjucks.LoaderSource {
    if (!Object.hasOwn(this.sources, name)) return null as unknown as nunjucks.LoaderSource; // nunjucks: "template not found"
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

export function createSandboxEnvironment(sources: Record<string, string>): nunjucks.Environment {
  installSandbox();
  const env = new nunjucks.Environment(new SourceLoader(sources), {
    autoescape: false,
    throwOnUndefined: true,
    // keep the TemplateError (its message carries the template path and line of the innermost error)
    dev: true,
  } as nunjucks.ConfigureOptions);
  const builtins = (env as unknown as { filters: Record<string, (...args: unknown[]) => unknown> }).filters;
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
  // password_hash needs the render's salts; a password hashed twice in a render is computed once
  env.addFilter('password_hash', (value: unknown, ...args: unknown[]) => {
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
  });
  env.addGlobal('range', range);
  return env;
}

// ---------------------------------------------------------------------------------------------------------- running

export function runRenderJob(job: RenderJob): RenderJobResult {
  const env = createSandboxEnvironment(job.sources);
  const maxOutputChars = job.limits.maxOutputBytes;
  state = {
    names: new WeakMap(),
    work: 0,
    maxWork: OUTPUT_WORK_FACTOR * maxOutputChars,
    maxOutputChars,
    maxRangeLength: job.limits.maxRangeLength,
    salts: new Map(job.passwordSalts?.map(([value, salt]) => [value, salt])),
    hashes: new Map(),
  };
  try {
    const outputs: Partial<Record<TemplateField, string>> = {};
    const problems: SandboxProblem[] = [];
    let bytes = 0;
    for (const field of FIELD_ORDER) {
      const entry = job.entries[field];
      if (entry === undefined) continue;
      try {
        const out = env.render(entry, job.context);
        bytes += Buffer.byteLength(out, 'utf8');
        if (bytes > job.limits.maxOutputBytes) {
          return {
            ok: false,
            problems: [{ kind: 'output-limit', field, message: `the rendered files are larger than ${job.limits.maxOutputBytes} bytes` }],
          };
        }
        outputs[field] = out;
      } catch (err) {
        if (state.limitExceeded) return { ok: false, problems: [{ kind: 'output-limit', field, message: state.limitExceeded }] };
        problems.push(describeError(err, field, job.sources));
      }
    }
    return problems.length ? { ok: false, problems } : { ok: true, outputs };
  } finally {
    state = undefined;
  }
}

const LOCATION = /\(([^()\n]*)\) \[Line (\d+)(?:, Column (\d+))?\]/g;

/** Turns a nunjucks error (message: nested `(path) [Line l, Column c]` prefixes, innermost last) into a problem. */
export function describeError(err: unknown, field: TemplateField, sources: Record<string, string>): SandboxProblem {
  const text = err instanceof Error ? err.message : String(err);
  const problem: SandboxProblem = { kind: 'render', field, message: '' };
  for (const m of text.matchAll(LOCATION)) {
    problem.template = m[1];
    problem.line = Number(m[2]);
    problem.column = m[3] === undefined ? undefined : Number(m[3]);
  }
  if (problem.column === undefined) delete problem.column;
  const lines = text.split('\n');
  let message = (lines[lines.length - 1] ?? '').trim();
  message = message.replace(/^(?:(?:Template render error|Error|FilterError|LimitError): )+/, '');
  const notFound = /^template not found: (.*)$/.exec(message);
  if (notFound) {
    const names = [...new Set(Object.keys(sources).map((id) => id.slice(0, id.indexOf('/'))))].sort();
    message = `template "${notFound[1]}" is not available: only the extends chain and the includes can be loaded (${names.join(', ')})`;
  }
  problem.message = message || 'rendering failed';
  if (problem.template === undefined) delete problem.template;
  if (problem.line === undefined) delete problem.line;
  return problem;
}
