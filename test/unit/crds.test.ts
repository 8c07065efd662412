// The CRDs in crds/ are generated from shared/src/api; these tests keep them in sync, documented, structural, and
// check the example objects in test/fixtures/crds against the schemas (the integration tests apply the same
// fixtures to a real kube-apiserver).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse, parseDocument, isMap, isSeq, isScalar, type ParseOptions, type DocumentOptions, type SchemaOptions } from 'yaml';
import { anvilCrds, API_VERSION, type BareMetalHost, type AutoinstallTemplate, type ProxmoxTemplate } from '@anvil/core/api';
import { CRD_HEADER, generateCrdFiles } from '@anvil/core/src/api/crd-files.js';
import type { CustomResourceDefinition } from '@anvil/core/api';
import type { Condition as SchemaCondition } from '@anvil/core/api';
import type { Condition as RuntimeCondition } from '@anvil/core/conditions';
import type { KubeObject } from '@anvil/core/kube';

// Compile-time checks (npm run typecheck): our typed objects can be handed to the runtime's Kubernetes port as they
// are, and the runtime's condition helper writes exactly the condition shape the schema declares.
const _assignable: KubeObject[] = [] as (BareMetalHost | AutoinstallTemplate | ProxmoxTemplate)[];
const _conditions: [RuntimeCondition[], SchemaCondition[]] = [[] as SchemaCondition[], [] as RuntimeCondition[]];
void _assignable;
void _conditions;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CRD_DIR = join(ROOT, 'crds');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'crds');

type Node = Record<string, unknown>;

/** How kubectl and the API server read YAML: 1.1 rules (On/Off/yes/no are booleans) but timestamps stay strings. */
const KUBE_YAML: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  uniqueKeys: true,
  customTags: (tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
};

const rootSchema = (crd: CustomResourceDefinition): Node => crd.spec.versions[0]!.schema.openAPIV3Schema;

/** Visits every schema node with a JSONPath-like location. */
function walk(node: Node, path: string, visit: (node: Node, path: string) => void): void {
  visit(node, path);
  const props = node.properties as Record<string, Node> | undefined;
  for (const [k, child] of Object.entries(props ?? {})) walk(child, `${path}.${k}`, visit);
  if (node.items && typeof node.items === 'object') walk(node.items as Node, `${path}[]`, visit);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') walk(node.additionalProperties as Node, `${path}{}`, visit);
  for (const junctor of ['oneOf', 'anyOf', 'allOf'] as const) {
    (node[junctor] as Node[] | undefined)?.forEach((branch, i) => walk(branch, `${path}<${junctor}${i}>`, visit));
  }
  if (node.not) walk(node.not as Node, `${path}<not>`, visit);
}

function forEachSchema(visit: (node: Node, path: string, crd: CustomResourceDefinition) => void): void {
  for (const crd of anvilCrds) walk(rootSchema(crd), crd.spec.names.kind, (n, p) => visit(n, p, crd));
}

describe('crds/ is generated from shared/src/api', () => {
  const files = generateCrdFiles();

  it.each([...files.keys()])('crds/%s is up to date', (name) => {
    let onDisk: string | undefined;
    try {
      onDisk = readFileSync(join(CRD_DIR, name), 'utf8');
    } catch {
      onDisk = undefined;
    }
    if (onDisk !== files.get(name)) {
      throw new Error(`crds/${name} ${onDisk === undefined ? 'is missing' : 'differs from the TypeScript definitions'}: run \`npm run gen:crds\` and commit the result`);
    }
  });

  it('crds/ holds nothing else', () => {
    const stray = readdirSync(CRD_DIR).filter((f) => !files.has(f));
    if (stray.length > 0) throw new Error(`unexpected files in crds/: ${stray.join(', ')} (run \`npm run gen:crds\`; hand-written CRDs are not allowed)`);
  });

  it.each([...files.entries()])('%s starts with the header and reads back identically with kubectl’s YAML 1.1 rules', (name, text) => {
    expect(text.startsWith(CRD_HEADER)).toBe(true);
    const crd = anvilCrds.find((c) => name === `${c.spec.group}_${c.spec.names.plural}.yaml`);
    expect(parse(text, KUBE_YAML)).toEqual(crd);
    expect(parse(text)).toEqual(crd);
  });

  it('the in-memory CRDs are plain JSON (no TypeBox symbols, no undefined)', () => {
    for (const crd of anvilCrds) {
      expect(JSON.parse(JSON.stringify(crd))).toEqual(crd);
      const symbols: string[] = [];
      const visit = (v: unknown, path: string): void => {
        if (v === null || typeof v !== 'object') return;
        if (Object.getOwnPropertySymbols(v).length > 0) symbols.push(path);
        for (const [k, c] of Object.entries(v)) visit(c, `${path}.${k}`);
      };
      visit(crd, crd.metadata.name);
      expect(symbols).toEqual([]);
    }
  });

  it('names, scope, subresources and printer columns', () => {
    const byKind = Object.fromEntries(anvilCrds.map((c) => [c.spec.names.kind, c]));
    expect(Object.keys(byKind).sort()).toEqual(['AutoinstallTemplate', 'BareMetalHost', 'ProxmoxTemplate']);
    expect(byKind.BareMetalHost!.spec.names.shortNames).toContain('bmh');
    for (const crd of anvilCrds) {
      expect(crd.metadata.name).toBe(`${crd.spec.names.plural}.anvil.dev`);
      expect(crd.spec.scope).toBe('Namespaced');
      expect(crd.spec.names.categories).toEqual(['anvil']);
      expect(crd.spec.names.listKind).toBe(`${crd.spec.names.kind}List`);
      expect(crd.spec.versions).toHaveLength(1);
      const v = crd.spec.versions[0]!;
      expect(`${crd.spec.group}/${v.name}`).toBe(API_VERSION);
      expect(v.served && v.storage).toBe(true);
      expect(v.subresources).toEqual({ status: {} });
      const columns = v.additionalPrinterColumns.map((c) => c.name);
      expect(columns).toContain('Age');
      expect(new Set(columns).size).toBe(columns.length);
    }
    const bmhColumns = byKind.BareMetalHost!.spec.versions[0]!.additionalPrinterColumns;
    expect(bmhColumns.filter((c) => !c.priority).map((c) => [c.name, c.jsonPath])).toEqual([
      ['State', '.status.state'],
      ['MAC', '.spec.bootMACAddress'],
      ['Template', '.spec.templateRef.name'],
      ['Progress', '.status.currentInstall.progress'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
  });

  it('printer columns point at fields that exist in the schema', () => {
    for (const crd of anvilCrds) {
      for (const col of crd.spec.versions[0]!.additionalPrinterColumns) {
        if (col.jsonPath.startsWith('.metadata.')) continue;
        let node: Node | undefined = rootSchema(crd);
        for (const seg of col.jsonPath.replace(/\[(\?\(.*?\)|\d+)\]/g, '[]').split('.').slice(1)) {
          const [name, isList] = seg.endsWith('[]') ? [seg.slice(0, -2), true] : [seg, false];
          node = (node?.properties as Record<string, Node> | undefined)?.[name];
          if (isList) node = node?.items as Node | undefined;
        }
        expect([crd.spec.names.kind, col.name, node ? 'exists' : 'missing']).toEqual([crd.spec.names.kind, col.name, 'exists']);
      }
    }
  });
});

describe('every field is documented', () => {
  it('every property and list item at every depth has a non-empty description', () => {
    const missing: string[] = [];
    forEachSchema((node, path) => {
      if (/<(oneOf|anyOf|allOf|not)\d*>/.test(path) || path.endsWith('{}')) return; // junctor branches and map values
      // Kubernetes 1.20 refuses anything but {type: object} at the root metadata ("metadata is implicitly specified").
      if (/^\w+\.metadata$/.test(path)) return;
      if (typeof node.description !== 'string' || node.description.trim().length < 3) missing.push(path);
    });
    expect(missing).toEqual([]);
  });
});

describe('the schemas are Kubernetes structural schemas', () => {
  const ALLOWED = new Set([
    'description', 'type', 'format', 'enum', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum',
    'exclusiveMaximum', 'multipleOf', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'default', 'nullable', 'title',
    'properties', 'required', 'items', 'additionalProperties', 'oneOf', 'anyOf', 'allOf', 'not', 'example', 'externalDocs',
    'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource',
    'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type',
  ]);
  /** Inside oneOf/anyOf/allOf/not only value validations are allowed: no types, descriptions, defaults or extensions. */
  const FORBIDDEN_IN_JUNCTORS = ['type', 'description', 'default', 'nullable', 'title', 'additionalProperties', 'items', 'properties'];
  const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);
  const inJunctor = (path: string) => /<(oneOf|anyOf|allOf|not)\d*>/.test(path);

  it('uses only keywords a structural schema allows', () => {
    const problems: string[] = [];
    forEachSchema((node, path) => {
      for (const key of Object.keys(node)) if (!ALLOWED.has(key)) problems.push(`${path}: keyword ${key}`);
      if (Object.getOwnPropertySymbols(node).length > 0) problems.push(`${path}: symbol keys`);
      if (node.uniqueItems === true) problems.push(`${path}: uniqueItems`);
      if (inJunctor(path)) {
        for (const key of FORBIDDEN_IN_JUNCTORS) if (key in node) problems.push(`${path}: ${key} inside a junctor`);
        for (const key of Object.keys(node)) if (key.startsWith('x-kubernetes-')) problems.push(`${path}: ${key} inside a junctor`);
      }
    });
    expect(problems).toEqual([]);
  });

  it('every node outside junctors has a type, unless it preserves unknown fields or is int-or-string', () => {
    const problems: string[] = [];
    forEachSchema((node, path) => {
      if (inJunctor(path)) return;
      const exempt = node['x-kubernetes-preserve-unknown-fields'] === true || node['x-kubernetes-int-or-string'] === true;
      if (node.type === undefined && !exempt) problems.push(`${path}: no type`);
      if (node.type !== undefined && !TYPES.has(node.type as string)) problems.push(`${path}: type ${String(node.type)}`);
    });
    expect(problems).toEqual([]);
  });

  it('objects, lists and enums are consistent', () => {
    const problems: string[] = [];
    forEachSchema((node, path) => {
      if (inJunctor(path)) {
        const required = (node.required as string[] | undefined) ?? [];
        if (required.length === 0 && !node.not) problems.push(`${path}: empty junctor branch`);
        return;
      }
      const props = node.properties as Record<string, Node> | undefined;
      if (props && node.additionalProperties !== undefined) problems.push(`${path}: properties and additionalProperties together`);
      if (node.additionalProperties !== undefined && typeof node.additionalProperties !== 'object') problems.push(`${path}: additionalProperties must be a schema`);
      if (node.type !== 'object' && (props || node.required)) problems.push(`${path}: properties on a non-object`);
      for (const r of (node.required as string[] | undefined) ?? []) if (!props?.[r]) problems.push(`${path}: required ${r} is not a property`);
      for (const branch of [...((node.oneOf as Node[] | undefined) ?? []), ...((node.anyOf as Node[] | undefined) ?? [])]) {
        for (const r of (branch.required as string[] | undefined) ?? []) if (!props?.[r]) problems.push(`${path}: junctor requires unknown ${r}`);
      }
      if (node.type === 'array') {
        const items = node.items as Node | undefined;
        if (!items) problems.push(`${path}: array without items`);
        const listType = node['x-kubernetes-list-type'];
        if (!['atomic', 'set', 'map'].includes(listType as string)) problems.push(`${path}: x-kubernetes-list-type ${String(listType)}`);
        if (listType === 'set' && (items?.type === 'object' || items?.type === 'array')) problems.push(`${path}: set of non-scalars`);
        if (listType === 'map') {
          const keys = (node['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
          if (items?.type !== 'object' || keys.length === 0) problems.push(`${path}: map list needs object items and keys`);
          for (const k of keys) {
            if (!((items?.required as string[] | undefined) ?? []).includes(k)) problems.push(`${path}: map key ${k} not required`);
            const keyType = (items?.properties as Record<string, Node> | undefined)?.[k]?.type;
            if (!['string', 'integer', 'boolean'].includes(keyType as string)) problems.push(`${path}: map key ${k} not scalar`);
          }
        } else if (node['x-kubernetes-list-map-keys']) problems.push(`${path}: list map keys without map list type`);
      }
      if (node.enum) {
        for (const v of node.enum as unknown[]) if (typeof v !== node.type) problems.push(`${path}: enum value ${String(v)} is not a ${String(node.type)}`);
      }
      if (typeof node.pattern === 'string') {
        // RE2 (Go) has no lookaround or backreferences; both engines must read the pattern alike.
        if (/\(\?[=!<]|\\[1-9]/.test(node.pattern)) problems.push(`${path}: pattern not RE2-compatible`);
        try {
          new RegExp(node.pattern, 'u');
        } catch (err) {
          problems.push(`${path}: pattern ${(err as Error).message}`);
        }
      }
    });
    expect(problems).toEqual([]);
  });

  it('the root is apiVersion/kind/metadata/spec/status with metadata left to the API server', () => {
    for (const crd of anvilCrds) {
      const root = rootSchema(crd);
      expect(Object.keys(root.properties as object)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
      expect((root.properties as Record<string, Node>).metadata).toEqual({ type: 'object' });
      expect(root.required).toEqual(['spec']);
    }
  });

  it('every default is valid against its own schema', () => {
    const ajv = newAjv();
    const problems: string[] = [];
    forEachSchema((node, path) => {
      if (node.default === undefined) return;
      const { default: value, ...rest } = node;
      const validate = ajv.compile(rest);
      if (!validate(structuredClone(value))) problems.push(`${path}: ${ajv.errorsText(validate.errors)}`);
    });
    expect(problems).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------ fixtures via ajv

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** An ajv that reads Kubernetes' OpenAPI dialect: its formats, and list types with their uniqueness rules. */
function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, useDefaults: true });
  ajv.addFormat('date-time', DATE_TIME);
  ajv.addFormat('uuid', UUID);
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  for (const keyword of ['x-kubernetes-preserve-unknown-fields', 'x-kubernetes-list-map-keys', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource', 'x-kubernetes-map-type']) {
    ajv.addKeyword({ keyword });
  }
  // The API server rejects duplicate items in set lists and duplicate keys in map lists ("Duplicate value").
  const listType = (listKind: string, data: unknown[], parent: Node, ctx?: { instancePath: string }): boolean => {
    if (listKind === 'atomic') return true;
    const keys = (parent['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
    const seen = new Set<string>();
    const errors: Partial<ErrorObject>[] = [];
    data.forEach((item, i) => {
      const id = listKind === 'map' ? JSON.stringify(keys.map((k) => (item as Record<string, unknown>)?.[k])) : JSON.stringify(item);
      if (seen.has(id)) errors.push({ keyword: 'x-kubernetes-list-type', instancePath: `${ctx?.instancePath ?? ''}/${i}`, message: `duplicate value ${id}`, params: {} });
      seen.add(id);
    });
    (listType as unknown as { errors: Partial<ErrorObject>[] }).errors = errors;
    return errors.length === 0;
  };
  ajv.addKeyword({ keyword: 'x-kubernetes-list-type', type: 'array', schemaType: 'string', errors: true, validate: listType as never });
  return ajv;
}

/** A copy of the schema in which unknown fields fail (the API server would silently prune them). */
function noUnknownFields(node: Node): Node {
  const copy: Node = { ...node };
  if (copy.properties && copy['x-kubernetes-preserve-unknown-fields'] !== true) {
    copy.properties = Object.fromEntries(Object.entries(copy.properties as Record<string, Node>).map(([k, v]) => [k, noUnknownFields(v)]));
    copy.additionalProperties = false;
  }
  if (copy.items) copy.items = noUnknownFields(copy.items as Node);
  return copy;
}

interface Fixture {
  file: string;
  text: string;
  object: Record<string, unknown>;
  reason?: string;
  field?: string;
}

function loadFixtures(kind: 'valid' | 'invalid'): Fixture[] {
  const dir = join(FIXTURES, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      const doc = parseDocument(text, KUBE_YAML);
      if (doc.errors.length > 0) throw new Error(`${kind}/${f}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object = JSON.parse(JSON.stringify(doc.toJS())) as Record<string, unknown>;
      const comment = (label: string) => text.match(new RegExp(`^#\\s*${label}:\\s*(.+)$`, 'm'))?.[1]?.trim();
      return { file: `${kind}/${f}`, text, object, reason: comment('reason'), field: comment('field') };
    });
}

/** Scalars whose value YAML 1.1 (kubectl) and YAML 1.2 (most JS tools) read differently, e.g. On, yes, 0755. */
function ambiguousScalars(text: string): string[] {
  const found: string[] = [];
  const visit = (n: unknown, path: string): void => {
    if (isMap(n)) for (const pair of n.items) visit(pair.value, `${path}.${String(isScalar(pair.key) ? pair.key.value : '?')}`);
    else if (isSeq(n)) n.items.forEach((item, i) => visit(item, `${path}[${i}]`));
    else if (isScalar(n) && n.type === 'PLAIN') {
      const v11 = parse(String(n.source), KUBE_YAML) as unknown;
      const v12 = parse(String(n.source)) as unknown;
      if (JSON.stringify(v11) !== JSON.stringify(v12)) found.push(`${path}: ${String(n.source)}`);
    }
  };
  visit(parseDocument(text).contents, '');
  return found;
}

const describeErrors = (errors: ErrorObject[] | null | undefined): string =>
  (errors ?? []).map((e) => `${fieldOf(e) || '<root>'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`).join('; ');

const fieldOf = (e: ErrorObject): string => {
  const missing = e.keyword === 'required' ? `/${String((e.params as { missingProperty: string }).missingProperty)}` : '';
  return `${e.instancePath}${missing}`
    .split('/')
    .slice(1)
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`))
    .join('')
    .replace(/^\./, '');
};

describe('example objects in test/fixtures/crds', () => {
  const ajv = newAjv();
  const validators = new Map<string, { loose: ValidateFunction; strict: ValidateFunction }>();
  for (const crd of anvilCrds) {
    validators.set(crd.spec.names.kind, { loose: ajv.compile(rootSchema(crd)), strict: ajv.compile(noUnknownFields(rootSchema(crd))) });
  }
  const validatorFor = (f: Fixture) => {
    expect(f.object.apiVersion).toBe(API_VERSION);
    const v = validators.get(f.object.kind as string);
    if (!v) throw new Error(`${f.file}: unknown kind ${String(f.object.kind)}`);
    return v;
  };
  const valid = loadFixtures('valid');
  const invalid = loadFixtures('invalid');

  it('there are enough of them', () => {
    const kinds = new Set(valid.map((f) => f.object.kind));
    expect([...kinds].sort()).toEqual(['AutoinstallTemplate', 'BareMetalHost', 'ProxmoxTemplate']);
    expect(valid.some((f) => f.object.kind === 'AutoinstallTemplate' && (f.object.spec as Node).extends)).toBe(true);
    expect(invalid.length).toBeGreaterThanOrEqual(6);
  });

  it.each([...valid, ...invalid].map((f) => [f.file, f] as const))('%s reads the same under YAML 1.1 and 1.2', (_, f) => {
    expect(ambiguousScalars(f.text)).toEqual([]);
  });

  it.each(valid.map((f) => [f.file, f] as const))('%s is accepted, with no unknown fields', (_, f) => {
    const { loose, strict } = validatorFor(f);
    if (!loose(structuredClone(f.object))) throw new Error(`${f.file} rejected: ${describeErrors(loose.errors)}`);
    if (!strict(structuredClone(f.object))) throw new Error(`${f.file} has fields the API server would prune: ${describeErrors(strict.errors)}`);
  });

  it.each(invalid.map((f) => [f.file, f] as const))('%s is rejected for its stated reason', (_, f) => {
    expect(f.reason).toBeTruthy();
    const { loose } = validatorFor(f);
    const ok = loose(structuredClone(f.object));
    if (ok) throw new Error(`${f.file} was accepted, but should fail because: ${f.reason}`);
    if (f.field) {
      const fields = (loose.errors ?? []).map(fieldOf);
      if (!fields.includes(f.field)) throw new Error(`${f.file}: expected an error at ${f.field}, got ${describeErrors(loose.errors)}`);
    }
  });
});
