// Errors of the rendering engine. Every failure carries a kind (what went wrong, for the controller's reason and
// errorType) and one or more problems (where: template, field, line, YAML path), so a status message can point the
// user at the exact spot. Messages never contain variable values, and the render pipeline masks secrets in them
// once more before they leave it.

/**
 * The files anvil renders from an AutoinstallTemplate (kernelArgs lives in spec.boot.kernelArgs). Which of them a
 * template's installer kind uses is up to the kind (operator/src/installers).
 */
export const TEMPLATE_FIELDS = ['userData', 'metaData', 'networkConfig', 'vendorData', 'ignition', 'preseed', 'kernelArgs'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

export type RenderErrorKind =
  /** The template chain does not resolve: missing template, cycle, too deep. */
  | 'chain'
  /** A template does not compile (nunjucks syntax), uses an unknown filter or loads a template outside its chain. */
  | 'syntax'
  /** The rendering context cannot be built: reserved variable names, missing secret values, missing URLs. */
  | 'context'
  /** Rendering failed: undefined variable, filter error, error raised by the template. */
  | 'render'
  /** Rendering took longer than the time limit. */
  | 'timeout'
  /** The rendered output is larger than the size limit. */
  | 'output-limit'
  /** The render worker ran out of memory (or crashed). */
  | 'memory'
  /** The rendered files are not what the installer accepts (YAML, #cloud-config, autoinstall schema, password hash). */
  | 'validation';

/** One problem, located as precisely as we know. */
export interface RenderProblem {
  /** The file being rendered or validated. */
  field?: TemplateField;
  /** The template (`<name>/<field>`) the problem is in, when it is not simply the field's entry template. */
  template?: string;
  /** 1-based line and column in that template, or without a template in the rendered file (validation problems). */
  line?: number;
  column?: number;
  /** For validation problems: the YAML (or JSON) path, e.g. `autoinstall.identity.password`. */
  path?: string;
  message: string;
}

export class RenderError extends Error {
  readonly kind: RenderErrorKind;
  readonly problems: readonly RenderProblem[];

  constructor(kind: RenderErrorKind, problems: readonly RenderProblem[]) {
    super(problems.length ? problems.map(formatProblem).join('; ') : kind);
    this.name = 'RenderError';
    this.kind = kind;
    this.problems = problems;
  }

  /** The same error with every problem message passed through `map` (used to mask secrets). */
  mapMessages(map: (text: string) => string): RenderError {
    return new RenderError(
      this.kind,
      this.problems.map((p) => ({
        ...p,
        message: map(p.message),
        ...(p.template !== undefined ? { template: map(p.template) } : {}),
        ...(p.path !== undefined ? { path: map(p.path) } : {}),
      })),
    );
  }
}

/**
 * `userData: ubuntu-base/userData line 12, column 20: undefined variable "passwordHash"` for a problem in a template,
 * or `userData: rendered line 7: autoinstall.identity: unknown key "foo"` for a problem in the rendered file (lines of
 * the file as served, which `anvil render` prints).
 */
export function formatProblem(p: RenderProblem): string {
  const where: string[] = [];
  if (p.template) where.push(p.template);
  if (p.line !== undefined) {
    const line = p.column !== undefined ? `line ${p.line}, column ${p.column}` : `line ${p.line}`;
    where.push(p.template ? line : `rendered ${line}`);
  }
  let head = p.field ?? '';
  if (where.length) head = head ? `${head}: ${where.join(' ')}` : where.join(' ');
  const body = p.path ? `${p.path}: ${p.message}` : p.message;
  return head ? `${head}: ${body}` : body;
}
