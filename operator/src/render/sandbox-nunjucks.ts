// The patches the sandbox applies to nunjucks' runtime and compiler (see sandbox.ts for what they add up to):
// lookups through sandbox-lookups.ts, every output counted against the limit, undefined and null refused with the
// name of the variable, filters and calls located at their own line and column, errors attributed to the template
// whose code raised them, and the callee name in compiled code quoted properly.
//
// Loaded by the render worker process from source in development: erasable TypeScript only.
import { nunjucksInternals, type CompilerNode, type CompilerThis } from './nunjucks-internals.js';
import { contextOrFrameLookup, memberLookup } from './sandbox-lookups.js';
import { LimitError, activeState, current, nullMessage, undefinedMessage } from './sandbox-state.js';

const nj = nunjucksInternals;

// ---------------------------------------------------------------------------------------------------- runtime hooks

function ensureDefined(value: unknown, lineno: number, colno: number): unknown {
  if (value === undefined) throw new nj.lib.TemplateError(undefinedMessage(), lineno + 1, colno + 1);
  if (value === null) throw new nj.lib.TemplateError(nullMessage(), lineno + 1, colno + 1);
  return value;
}

/** Called before each output expression is evaluated. */
function beginExpression(): void {
  const state = activeState();
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

/** Labels an error with the template it comes from, unless an inner template did already. */
function label(err: unknown, template: string): unknown {
  if (err && typeof err === 'object' && (err as { anvilLabelled?: boolean }).anvilLabelled) return err;
  const out = nj.lib._prettifyError(template, true, err) as Error & { anvilLabelled?: boolean };
  out.anvilLabelled = true;
  return out;
}

// ------------------------------------------------------------------------------------------------------- installing

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
