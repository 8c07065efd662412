// Schema helpers on top of TypeBox that only produce Kubernetes *structural* OpenAPI v3 schemas.
//
// Every helper takes the field's description as its first, required argument, so every field the CRDs expose is
// documented for `kubectl explain`. Each helper returns a TypeBox `TUnsafe<T>`: TypeBox supplies the static
// TypeScript type (`Static<typeof schema>`), and the JSON we emit is exactly what we wrote here — no `anyOf` of
// `const`s, no `patternProperties`, no `$id`. The only extra thing TypeBox adds is its `Kind` symbol, which is a symbol
// key and therefore disappears in `toJsonSchema()` / JSON serialization.
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';

export type { Static, TSchema };

/** A schema node that carries its static TypeScript type `T`. */
export type Schema<T> = TUnsafe<T>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** String formats that Kubernetes validates and that our tests' ajv instance understands. */
export type StringFormat = 'date-time' | 'uuid' | 'byte';
export type IntegerFormat = 'int32' | 'int64';
export type ListType = 'atomic' | 'set' | 'map';

function node<T>(schema: Record<string, unknown>): TUnsafe<T> {
  // Drop undefined options so they never show up as keys.
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) if (v !== undefined) clean[k] = v;
  return Type.Unsafe<T>(clean);
}

function requireDescription(description: string): string {
  if (typeof description !== 'string' || description.trim() === '') throw new Error('every schema node needs a non-empty description');
  return description;
}

export interface StringOptions {
  pattern?: string;
  enum?: readonly string[];
  format?: StringFormat;
  minLength?: number;
  maxLength?: number;
  default?: string;
}

/** `{type: string}` with optional pattern (RE2- and ECMAScript-compatible), enum, format and length limits. */
export function string(description: string, options: StringOptions = {}): TUnsafe<string> {
  return node<string>({
    description: requireDescription(description),
    type: 'string',
    format: options.format,
    enum: options.enum ? [...options.enum] : undefined,
    pattern: options.pattern,
    minLength: options.minLength,
    maxLength: options.maxLength,
    default: options.default,
  });
}

/** An RFC 3339 timestamp (`format: date-time`), as Kubernetes writes `metav1.Time`. */
export function dateTime(description: string): TUnsafe<string> {
  return string(description, { format: 'date-time' });
}

export interface StringEnumOptions<V extends string> {
  default?: V;
}

/** `{type: string, enum: [...]}` whose static type is the union of the values. */
export function stringEnum<const V extends readonly [string, ...string[]]>(
  description: string,
  values: V,
  options: StringEnumOptions<V[number]> = {},
): TUnsafe<V[number]> {
  if (options.default !== undefined && !values.includes(options.default)) throw new Error(`default ${options.default} is not one of ${values.join(', ')}`);
  return node<V[number]>({ description: requireDescription(description), type: 'string', enum: [...values], default: options.default });
}

export interface IntegerOptions {
  minimum?: number;
  maximum?: number;
  default?: number;
  format?: IntegerFormat;
}

export function integer(description: string, options: IntegerOptions = {}): TUnsafe<number> {
  return node<number>({
    description: requireDescription(description),
    type: 'integer',
    format: options.format,
    minimum: options.minimum,
    maximum: options.maximum,
    default: options.default,
  });
}

export function boolean(description: string, options: { default?: boolean } = {}): TUnsafe<boolean> {
  return node<boolean>({ description: requireDescription(description), type: 'boolean', default: options.default });
}

export type Properties = Record<string, TSchema>;

/** The static type of an object: the listed keys are required, every other key is optional. */
export type ObjectStatic<P extends Properties, R extends keyof P> = Simplify<
  { -readonly [K in R]: Static<P[K]> } & { -readonly [K in Exclude<keyof P, R>]?: Static<P[K]> }
>;

export interface ObjectOptions<R extends readonly string[]> {
  /** Keys that must be present. All other keys are optional (in the schema and in the static type). */
  required?: R;
  /**
   * Default for the object itself, typically `{}` so that the defaults of its fields are applied by the API server
   * even when the user leaves the whole object out.
   */
  default?: Record<string, unknown>;
  /**
   * Exactly one of these key groups must be present, emitted as `oneOf: [{required: [...]}, ...]` — the only form
   * of a logical junctor a structural schema allows (no types or descriptions inside). Not reflected in the static type.
   */
  exactlyOneOf?: readonly (readonly string[])[];
  minProperties?: number;
  maxProperties?: number;
}

export function object<P extends Properties, const R extends readonly (keyof P & string)[] = readonly []>(
  description: string,
  properties: P,
  options: ObjectOptions<R> = {},
): TUnsafe<ObjectStatic<P, R[number]>> {
  for (const key of options.required ?? []) if (!(key in properties)) throw new Error(`required key ${key} is not a property`);
  for (const group of options.exactlyOneOf ?? []) {
    for (const key of group) if (!(key in properties)) throw new Error(`exactlyOneOf key ${key} is not a property`);
  }
  return node({
    description: requireDescription(description),
    type: 'object',
    properties: { ...properties },
    required: options.required && options.required.length > 0 ? [...options.required] : undefined,
    oneOf: options.exactlyOneOf ? options.exactlyOneOf.map((group) => ({ required: [...group] })) : undefined,
    minProperties: options.minProperties,
    maxProperties: options.maxProperties,
    default: options.default,
  });
}

export interface ArrayOptions {
  minItems?: number;
  maxItems?: number;
  /**
   * `x-kubernetes-list-type`: `atomic` (default; the list is replaced as a whole by server-side apply), `set`
   * (unique scalar items) or `map` (objects identified by `listMapKeys`, which must be required in the items).
   */
  listType?: ListType;
  listMapKeys?: readonly string[];
}

export function array<T extends TSchema>(description: string, items: T, options: ArrayOptions = {}): TUnsafe<Static<T>[]> {
  const listType = options.listType ?? 'atomic';
  const itemType = (items as { type?: unknown }).type;
  if (listType === 'set' && (itemType === 'object' || itemType === 'array')) throw new Error('a set list needs scalar items');
  if (listType === 'map') {
    const keys = options.listMapKeys ?? [];
    const required = ((items as { required?: string[] }).required ?? []) as string[];
    if (itemType !== 'object' || keys.length === 0) throw new Error('a map list needs object items and listMapKeys');
    for (const k of keys) if (!required.includes(k)) throw new Error(`list map key ${k} must be required in the items`);
  } else if (options.listMapKeys) {
    throw new Error('listMapKeys only applies to listType map');
  }
  return node<Static<T>[]>({
    description: requireDescription(description),
    type: 'array',
    items,
    minItems: options.minItems,
    maxItems: options.maxItems,
    'x-kubernetes-list-type': listType,
    'x-kubernetes-list-map-keys': listType === 'map' ? [...(options.listMapKeys ?? [])] : undefined,
  });
}

/** A map of string to string (`additionalProperties: {type: string}`), like labels. */
export function stringMap(description: string, options: { maxProperties?: number } = {}): TUnsafe<Record<string, string>> {
  return node<Record<string, string>>({
    description: requireDescription(description),
    type: 'object',
    additionalProperties: { type: 'string' },
    maxProperties: options.maxProperties,
  });
}

/** A free-form object whose content the API server keeps as is (`x-kubernetes-preserve-unknown-fields: true`). */
export function freeForm(description: string): TUnsafe<Record<string, unknown>> {
  return node<Record<string, unknown>>({
    description: requireDescription(description),
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
  });
}

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

/** The item schema of `conditions`: exactly the shape (and validation) of `metav1.Condition`. */
export const conditionSchema = object(
  'Condition contains details for one aspect of the current state of this resource.',
  {
    type: string('Type of the condition, in CamelCase (for example Ready). Each type appears at most once in the list.', {
      pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      maxLength: 316,
    }),
    status: stringEnum('Status of the condition: True, False or Unknown.', CONDITION_STATUSES),
    observedGeneration: integer(
      'The .metadata.generation that the condition was set based upon. If it is older than .metadata.generation, the condition is out of date with respect to the current state of the resource.',
      { minimum: 0, format: 'int64' },
    ),
    lastTransitionTime: dateTime('Last time the condition changed from one status to another.'),
    reason: string(
      'A programmatic identifier in CamelCase indicating the reason for the last transition (for example TemplateNotFound).',
      { pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$', minLength: 1, maxLength: 1024 },
    ),
    message: string('A human readable message with details about the last transition. May be empty.', { maxLength: 32768 }),
  },
  { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
);

export type Condition = Static<typeof conditionSchema>;

/** A `conditions` list: a list map keyed by `type`, as Kubernetes' own APIs use. */
export function conditions(description: string): TUnsafe<Condition[]> {
  return array(description, conditionSchema, { listType: 'map', listMapKeys: ['type'] });
}

/** The plain JSON of a schema: symbol keys (TypeBox's `Kind`) and undefined values removed. */
export function toJsonSchema(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}
