// Validation of AutoinstallTemplates without rendering them: what the AutoinstallTemplate controller reports in its
// Valid condition. Templates are parsed and compiled (to JavaScript source, never run), so this is safe in the
// operator's main thread.
//
// Checked: nunjucks syntax (with line and column when nunjucks knows them), filters that do not exist, and
// `{% extends/include/import/from %}` of a literal name that is not in the template's chain or includes.
import nunjucks from 'nunjucks';
import { resolveTemplate, templateId, templateSource, type ResolvedTemplate, type TemplateLookup } from './chain.js';
import { RenderError, TEMPLATE_FIELDS, type RenderProblem, type TemplateField } from './errors.js';
import { ANVIL_FILTERS, CONTEXT_FILTER_NAMES } from './filters.js';
import { environmentFilters, nunjucksInternals, type AstNode } from './nunjucks-internals.js';
import type { AutoinstallTemplateSpec } from '@anvil/core/api';

const nj = nunjucksInternals;

/** Every filter a template can use: nunjucks' own and anvil's. */
export const KNOWN_FILTERS: ReadonlySet<string> = new Set([
  ...Object.keys(environmentFilters(new nunjucks.Environment())),
  ...Object.keys(ANVIL_FILTERS),
  ...CONTEXT_FILTER_NAMES,
]);

export interface TemplateReference {
  /** The name as written in the template. */
  name: string;
  /** The template id it resolves to (`<name>/<field>`). */
  id: string;
  line?: number;
  column?: number;
}

export interface CheckedSource {
  problems: RenderProblem[];
  /** Templates loaded by literal name through extends, include, import and from. */
  references: TemplateReference[];
}

/** Parses and compiles one template source; `id` is its template id (`<name>/<field>`). */
export function checkTemplateSource(id: string, source: string): CheckedSource {
  const field = id.slice(id.indexOf('/') + 1) as TemplateField;
  const problems: RenderProblem[] = [];
  const references: TemplateReference[] = [];
  let ast: AstNode;
  try {
    ast = nj.parser.parse(source, [], {});
    nj.compiler.compile(source, [], [], id, { throwOnUndefined: true });
  } catch (err) {
    problems.push(syntaxProblem(err, field, id));
    return { problems, references };
  }
  walk(ast, (node) => {
    const pos = position(node);
    if (node.typename === 'Filter' || node.typename === 'FilterAsync') {
      const name = (node.name as AstNode | undefined)?.value;
      if (typeof name === 'string' && !KNOWN_FILTERS.has(name)) {
        problems.push({ field, template: id, ...pos, message: `unknown filter "${name}"` });
      }
    }
    if (['Extends', 'Include', 'Import', 'FromImport'].includes(node.typename)) {
      const target = node.template as AstNode | undefined;
      if (target?.typename === 'Literal' && typeof target.value === 'string') {
        const name = target.value;
        references.push({ name, id: name.includes('/') ? name : `${name}/${field}`, ...position(target) });
      }
    }
  });
  return { problems, references };
}

/**
 * Validates the templates of one AutoinstallTemplate on their own (syntax and filters): problems for its Valid
 * condition that do not depend on other templates.
 */
export function validateTemplateSpec(name: string, spec: AutoinstallTemplateSpec): RenderProblem[] {
  const problems: RenderProblem[] = [];
  for (const field of TEMPLATE_FIELDS) {
    const source = templateSource(spec, field);
    if (source !== undefined) problems.push(...checkTemplateSource(templateId(name, field), source).problems);
  }
  return problems;
}

export interface ChainValidation {
  /** The resolved template, unless the chain does not resolve. */
  resolved?: ResolvedTemplate;
  problems: RenderProblem[];
  /** 'chain' when the chain does not resolve, 'syntax' for template problems; undefined when valid. */
  kind?: 'chain' | 'syntax';
}

/**
 * Validates a template with everything it depends on: the chain resolves (no missing template, cycle or excess depth),
 * every template of the chain and includes compiles, and every template loaded by literal name is one of them.
 */
export function validateTemplateChain(name: string, lookup: TemplateLookup): ChainValidation {
  let resolved: ResolvedTemplate;
  try {
    resolved = resolveTemplate(name, lookup);
  } catch (err) {
    if (err instanceof RenderError) return { problems: [...err.problems], kind: 'chain' };
    throw err;
  }
  const problems: RenderProblem[] = [];
  for (const [id, source] of Object.entries(resolved.sources)) {
    const checked = checkTemplateSource(id, source);
    problems.push(...checked.problems);
    for (const ref of checked.references) {
      if (!Object.hasOwn(resolved.sources, ref.id)) {
        const field = id.slice(id.indexOf('/') + 1) as TemplateField;
        const { name: _n, id: _i, ...pos } = ref;
        problems.push({
          field,
          template: id,
          ...pos,
          message: `"${ref.name}" refers to ${ref.id}, which is not in the extends chain or the includes of "${name}" (${resolved.dependencies.join(', ')})`,
        });
      }
    }
  }
  return problems.length ? { resolved, problems, kind: 'syntax' } : { resolved, problems };
}

function walk(node: unknown, visit: (node: AstNode) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit);
    return;
  }
  if (!node || typeof node !== 'object' || typeof (node as AstNode).typename !== 'string') return;
  const n = node as AstNode;
  visit(n);
  for (const f of n.fields) walk(n[f], visit);
}

/** nunjucks AST positions are 0-based. */
function position(node: AstNode): { line?: number; column?: number } {
  return typeof node.lineno === 'number' && typeof node.colno === 'number' ? { line: node.lineno + 1, column: node.colno + 1 } : {};
}

function syntaxProblem(err: unknown, field: TemplateField, id: string): RenderProblem {
  const e = err as { message?: string; lineno?: number; colno?: number };
  const message = String(e.message ?? err)
    .split('\n')
    .pop()!
    .trim()
    .replace(/^(?:Template render error|Error): /, '')
    .replace(/^(?:RangeError: )?Maximum call stack size exceeded$/, 'the template is nested too deeply');
  return {
    field,
    template: id,
    ...(typeof e.lineno === 'number' ? { line: e.lineno } : {}),
    ...(typeof e.colno === 'number' ? { column: e.colno } : {}),
    message: message || 'syntax error',
  };
}
