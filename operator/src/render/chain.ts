// Template chain resolution: from an AutoinstallTemplate name to everything needed to render it, without any
// Kubernetes I/O (the caller passes a lookup over its informer cache).
//
// Semantics (the CRD field descriptions in shared/src/api/v1alpha1/autoinstalltemplate.ts are the contract):
//
// - `extends` forms a chain, base first. Its length is at most MAX_CHAIN_DEPTH; a missing template and a cycle are
//   errors.
// - A file (userData, metaData, networkConfig, vendorData, boot.kernelArgs) that a template leaves unset is inherited:
//   the file rendered is the nearest template in the chain, from the named template towards the base, that sets it.
//   So an overlay with `extends` and no userData renders its base's userData — with the overlay's defaults.
// - A template that sets a file replaces the base's file entirely, unless its source starts with
//   `{% extends "<base>" %}` (or `"<base>/<field>"`), in which case it overrides the base's `{% block %}`s as usual in
//   nunjucks. anvil never adds an implicit `{% extends %}`: what a template renders is what its source says.
// - Templates are addressed in nunjucks as `<templateName>/<field>`; a bare `<templateName>` means the same field as
//   the template doing the loading, so `{% extends "ubuntu-base" %}` in a userData extends ubuntu-base's userData and
//   `{% import "snippets" as s %}` imports snippets' userData.
// - Only templates in the chain and in `includes` (of any template in the chain, transitively with their own chains
//   and includes) can be loaded by `{% extends %}`, `{% include %}`, `{% import %}` and `{% from %}`. The dependency
//   set is therefore declared in the specs, and the contentHash covers everything the result depends on.
// - `defaults` are deep-merged (objects merge key by key; arrays and scalars are replaced), in this order, later
//   winning: for each template of the chain from the base: its includes' defaults in list order (each include
//   contributing its own resolved defaults), then the template's own defaults.
// - `installer`: the named template's spec.installer (ubuntu-autoinstall when unset); every template of the extends
//   chain must name the same kind (a Flatcar overlay on an Ubuntu base renders nothing either installer accepts).
//   Includes are snippet libraries and may be of any kind.
// - `boot`: kernel, initrd, iso and kernelArgs each come from the nearest template in the chain that sets them; the
//   artifacts (url + sha256) are never merged field by field. Includes contribute no boot recipe.
import { createHash } from 'node:crypto';
import { DEFAULT_INSTALLER, type AutoinstallTemplateSpec, type BootArtifact, type InstallerKind } from '@anvil/core/api';
import { RenderError, TEMPLATE_FIELDS, type TemplateField } from './errors.js';

/** Finds an AutoinstallTemplate's spec by name in the namespace being rendered. */
export type TemplateLookup = (name: string) => AutoinstallTemplateSpec | undefined;

/** The longest extends chain (the named template included), and the deepest nesting of includes. */
export const MAX_CHAIN_DEPTH = 10;
/** The most templates a resolved template may depend on (chain plus includes). */
export const MAX_DEPENDENCIES = 64;

export interface ResolvedBoot {
  kernel?: BootArtifact;
  initrd?: BootArtifact;
  iso?: BootArtifact;
  /** The kernelArgs template source (rendered per host); its entry is `entries.kernelArgs`. */
  kernelArgs?: string;
}

export interface ResolvedTemplate {
  /** The template that was resolved (the last element of chain). */
  name: string;
  /** The extends chain, base first, `name` last (for status.resolvedChain). */
  chain: string[];
  /** Templates reachable through includes that are not in the chain, sorted. */
  includes: string[];
  /** Every template the result depends on (chain and includes), sorted: watch these for changes. */
  dependencies: string[];
  /** The installer the chain is written for. */
  installer: InstallerKind;
  /** Merged default variables. */
  defaults: Record<string, unknown>;
  /** The effective boot recipe. */
  boot: ResolvedBoot;
  /** For each file the chain defines, the template id (`<name>/<field>`) that renders it. */
  entries: Partial<Record<TemplateField, string>>;
  /** Every loadable template source by template id (`<name>/<field>`), for the nunjucks loader. */
  sources: Record<string, string>;
  /** `sha256:<hex>` over the specs of every dependency: changes when anything the result depends on changes. */
  contentHash: string;
}

/** `<name>/<field>`: how templates are addressed in nunjucks. */
export function templateId(name: string, field: TemplateField): string {
  return `${name}/${field}`;
}

/** The source of one file of a template spec, or undefined when the spec leaves it unset. */
export function templateSource(spec: AutoinstallTemplateSpec, field: TemplateField): string | undefined {
  return field === 'kernelArgs' ? spec.boot?.kernelArgs : spec[field];
}

/**
 * Resolves a template by name. Throws a RenderError of kind 'chain' when a template is missing, the extends chain
 * or the includes form a cycle, or they nest deeper than MAX_CHAIN_DEPTH.
 */
export function resolveTemplate(name: string, lookup: TemplateLookup): ResolvedTemplate {
  return new Resolver(lookup).resolve(name, []);
}

class Resolver {
  private readonly lookup: TemplateLookup;
  private readonly specs = new Map<string, AutoinstallTemplateSpec>();
  private readonly done = new Map<string, ResolvedTemplate>();

  constructor(lookup: TemplateLookup) {
    this.lookup = lookup;
  }

  /** `stack`: the templates whose includes are being resolved, outermost first (for include cycles). */
  resolve(name: string, stack: readonly string[]): ResolvedTemplate {
    const cached = this.done.get(name);
    if (cached) return cached;
    if (stack.includes(name)) fail(`includes form a cycle: ${[...stack.slice(stack.indexOf(name)), name].join(' -> ')}`);
    if (stack.length >= MAX_CHAIN_DEPTH) fail(`includes are nested deeper than ${MAX_CHAIN_DEPTH}: ${[...stack, name].join(' -> ')}`);

    const chain = this.chainOf(name);
    const installer = this.spec(name).installer ?? DEFAULT_INSTALLER;
    for (const member of chain) {
      const kind = this.spec(member).installer ?? DEFAULT_INSTALLER;
      if (kind !== installer) fail(`template "${name}" is for installer ${installer} but "${member}" in its extends chain is for ${kind}: a chain renders for one installer`);
    }
    const inner = [...stack, name];
    const included = new Set<string>();
    let defaults: Record<string, unknown> = {};
    for (const member of chain) {
      const spec = this.spec(member);
      for (const inc of spec.includes ?? []) {
        const r = this.resolve(inc, inner);
        for (const dep of r.dependencies) included.add(dep);
        defaults = deepMerge(defaults, r.defaults);
      }
      if (spec.defaults !== undefined) {
        if (!isPlainObject(spec.defaults)) fail(`template "${member}": defaults must be a mapping`);
        defaults = deepMerge(defaults, spec.defaults);
      }
    }
    for (const member of chain) included.delete(member);
    const dependencies = [...new Set([...chain, ...included])].sort();
    if (dependencies.length > MAX_DEPENDENCIES) {
      fail(`template "${name}" depends on ${dependencies.length} templates (at most ${MAX_DEPENDENCIES})`);
    }

    const nearest = <T>(get: (spec: AutoinstallTemplateSpec) => T | undefined): [string, T] | undefined => {
      for (let i = chain.length - 1; i >= 0; i--) {
        const member = chain[i]!;
        const value = get(this.spec(member));
        if (value !== undefined) return [member, value];
      }
      return undefined;
    };

    const boot: ResolvedBoot = {};
    for (const key of ['kernel', 'initrd', 'iso', 'kernelArgs'] as const) {
      const found = nearest((spec) => spec.boot?.[key]);
      if (found) (boot as Record<string, unknown>)[key] = found[1];
    }

    const entries: Partial<Record<TemplateField, string>> = {};
    for (const field of TEMPLATE_FIELDS) {
      const found = nearest((spec) => templateSource(spec, field));
      if (found) entries[field] = templateId(found[0], field);
    }

    const sources: Record<string, string> = {};
    for (const dep of dependencies) {
      const spec = this.spec(dep);
      for (const field of TEMPLATE_FIELDS) {
        const src = templateSource(spec, field);
        if (src !== undefined) sources[templateId(dep, field)] = src;
      }
    }

    const resolved: ResolvedTemplate = {
      name,
      chain,
      includes: [...included].sort(),
      dependencies,
      installer,
      defaults,
      boot,
      entries,
      sources,
      contentHash: hashOf(name, chain, dependencies.map((dep) => [dep, this.spec(dep)])),
    };
    this.done.set(name, resolved);
    return resolved;
  }

  /** The extends chain of `name`, base first. */
  private chainOf(name: string): string[] {
    const chain: string[] = [];
    let current: string | undefined = name;
    let referrer: string | undefined;
    while (current !== undefined) {
      if (chain.includes(current)) fail(`extends forms a cycle: ${[...chain.slice(chain.indexOf(current)), current].join(' -> ')}`);
      if (chain.length >= MAX_CHAIN_DEPTH) fail(`the extends chain of "${name}" is longer than ${MAX_CHAIN_DEPTH} templates`);
      const spec = this.load(current, referrer);
      chain.push(current);
      referrer = current;
      current = spec.extends;
    }
    return chain.reverse();
  }

  private load(name: string, referrer: string | undefined): AutoinstallTemplateSpec {
    let spec = this.specs.get(name);
    if (!spec) {
      const found = this.lookup(name);
      if (!found) fail(referrer ? `AutoinstallTemplate "${name}" (extended by "${referrer}") not found` : `AutoinstallTemplate "${name}" not found`);
      // The rollout policy is about how content reaches hosts, not content: approving a revision is not a new one.
      const { rollout: _policy, ...content } = found;
      spec = content;
      this.specs.set(name, spec);
    }
    return spec;
  }

  private spec(name: string): AutoinstallTemplateSpec {
    // includes are loaded through resolve() -> chainOf(), so every name asked for here is loaded already
    return this.specs.get(name) ?? this.load(name, undefined);
  }
}

function fail(message: string): never {
  throw new RenderError('chain', [{ message }]);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  // Realm-independent: objects made by structuredClone or another VM context have that realm's Object.prototype.
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * Deep merge for template variables: objects merge key by key (overlay winning), arrays and scalars are replaced.
 * Neither input is modified. `__proto__` keys are dropped (they could not be read by a template anyway).
 */
export function deepMerge(base: Record<string, unknown>, overlay: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(base)) if (key !== '__proto__') define(out, key, value);
  for (const [key, value] of Object.entries(overlay)) {
    if (key === '__proto__') continue;
    const existing = Object.hasOwn(out, key) ? out[key] : undefined;
    define(out, key, isPlainObject(existing) && isPlainObject(value) ? deepMerge(existing, value) : value);
  }
  return out;
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** JSON with sorted keys: the same data always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isPlainObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hashOf(name: string, chain: string[], specs: [string, AutoinstallTemplateSpec][]): string {
  return `sha256:${sha256Hex(canonicalJson({ name, chain, specs }))}`;
}
