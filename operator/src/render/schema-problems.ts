// Ajv's errors turned into readable problems with the path of the offending value (`autoinstall.identity: unknown
// key "foo"`) and its keys and indexes, to find the line in the YAML document.
import type { ErrorObject, ValidateFunction } from 'ajv';

export interface SchemaProblem {
  path: string;
  /** The path as keys and indexes, to find the YAML node. */
  segments: (string | number)[];
  message: string;
}

/** Validates `data` and returns readable problems (`autoinstall.identity: unknown key "foo"`), the first 20. */
export function schemaProblems(validate: ValidateFunction, data: unknown, root: string): SchemaProblem[] {
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  // An anyOf/oneOf failure lists the errors of every alternative: report the alternatives' failure once instead.
  const alternatives = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const out = new Map<string, SchemaProblem>();
  for (const e of errors) {
    if (e.keyword === 'if') continue; // its "then"/"else" errors are reported themselves
    if (alternatives.some((a) => e.schemaPath.startsWith(`${a.schemaPath}/`))) continue;
    const segments = pointerSegments(e.instancePath, data);
    const path = formatPath(root, segments);
    // point the line at the unknown key itself
    if (e.keyword === 'additionalProperties') segments.push(String((e.params as { additionalProperty: string }).additionalProperty));
    const problem = { path, segments, message: describe(e) };
    out.set(`${problem.path}\u0000${problem.message}`, problem);
  }
  return [...out.values()].slice(0, 20);
}

function describe(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  const schema = e.parentSchema as { properties?: Record<string, unknown>; description?: string } | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const known = Object.keys(schema?.properties ?? {});
      const list = known.length > 0 && known.length <= 12 ? ` (allowed: ${known.join(', ')})` : '';
      return `unknown key "${String(params.additionalProperty)}"${list}`;
    }
    case 'required':
      return `missing required key "${String(params.missingProperty)}"`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'enum':
      return `must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `must be of type ${String(params.type).replaceAll(',', ' or ')}`;
    case 'anyOf':
    case 'oneOf':
      return schema?.description
        ? `does not match any allowed form: ${schema.description.replace(/^./, (c) => c.toLowerCase()).replace(/\.$/, '')}`
        : 'does not match any allowed form';
    default:
      return e.message ?? 'is not valid';
  }
}

function pointerSegments(pointer: string, data: unknown): (string | number)[] {
  if (!pointer) return [];
  const segments: (string | number)[] = [];
  let value: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    const segment = Array.isArray(value) && /^\d+$/.test(key) ? Number(key) : key;
    segments.push(segment);
    value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[segment] : undefined;
  }
  return segments;
}

function formatPath(root: string, segments: (string | number)[]): string {
  let path = root;
  for (const s of segments) path = typeof s === 'number' ? `${path}[${s}]` : path ? `${path}.${s}` : s;
  return path;
}
