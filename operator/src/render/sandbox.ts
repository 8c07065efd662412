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
// The parts: sandbox-state.ts (the render in progress), sandbox-lookups.ts (what a template may read),
// sandbox-nunjucks.ts (the runtime and compiler patches), sandbox-environment.ts (loader, filters, range()); this file
// runs a job and turns errors into problems.
//
// Loaded by the render worker process from source in development: erasable TypeScript only, relative imports only of
// files that follow the same rule.
import { createSandboxEnvironment } from './sandbox-environment.js';
import { beginRenderState, endRenderState } from './sandbox-state.js';
import type { TemplateField } from './errors.js';

export { createSandboxEnvironment } from './sandbox-environment.js';
export { installSandbox } from './sandbox-nunjucks.js';

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
const FIELD_ORDER: readonly TemplateField[] = ['userData', 'metaData', 'networkConfig', 'vendorData', 'ignition', 'preseed', 'kernelArgs'];

export function runRenderJob(job: RenderJob): RenderJobResult {
  const env = createSandboxEnvironment(job.sources);
  const maxOutputChars = job.limits.maxOutputBytes;
  const state = beginRenderState({
    names: new WeakMap(),
    work: 0,
    maxWork: OUTPUT_WORK_FACTOR * maxOutputChars,
    maxOutputChars,
    maxRangeLength: job.limits.maxRangeLength,
    salts: new Map(job.passwordSalts?.map(([value, salt]) => [value, salt])),
    hashes: new Map(),
  });
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
    endRenderState();
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
