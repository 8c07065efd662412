// The rendering context: what a template sees. Three reserved objects (host, install, anvil) and the variables, flat
// at the top level: the template chain's defaults, deep-merged with the host's spec.variables (the host winning), then
// each secret value under its secretRef's variable name (replacing whatever was there).
//
// Secret values come from the caller (the controller reads the Secrets); they must never reach a log, an event or a
// status. Everything that leaves the render pipeline is passed through maskSecrets().
import type { BareMetalHostSpec, ObjectMeta } from '@anvil/core/api';
import { deepMerge, isPlainObject } from './chain.js';
import { RenderError, type RenderProblem } from './errors.js';

/** Names that variables cannot take: the context objects anvil provides. */
export const RESERVED_VARIABLES: readonly string[] = ['host', 'install', 'anvil'];

/** A secret's value: a string (secretRef with key) or every key of the Secret (secretRef without key). */
export type SecretValue = string | Readonly<Record<string, string>>;
/** Secret values by the variable name of their secretRef. */
export type SecretValues = Readonly<Record<string, SecretValue>>;

/** The host's side of the context. */
export interface HostContext {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Boot MAC, lower case with colons: `52:54:00:ab:cd:01`. */
  mac: string;
  /** Boot MAC, lower case with dashes: `52-54-00-ab-cd-01`. */
  macDashed: string;
  architecture: string;
  bootMode: string;
  /** spec.hostname, or metadata.name. */
  hostname: string;
}

export interface InstallContext {
  /** spec.provisioning.revision being installed. */
  revision: number;
  /** Attempt number for this revision, from 1. */
  attempt: number;
}

/** anvil's own URLs for this host, as the installer reaches them. */
export interface AnvilContext {
  /** Base URL of the boot-server. */
  bootServerURL: string;
  /** Where the installer posts its progress events (the reporting webhook). */
  webhookURL: string;
  /** Seconds the installer's webhook reporter sleeps before each retry of a failed POST (curtin's `retries`). */
  webhookRetries?: readonly number[];
  /** NoCloud seed URL of the host: user-data, meta-data... are fetched below it. */
  seedURL: string;
  /** The host's Ignition config URL (installer: ignition), token included. */
  ignitionURL?: string;
  /** The host's preseed file URL (installer: debian-preseed), token included. */
  preseedURL?: string;
  /** The boot-server's URLs of the cached boot artifacts. */
  assets: { kernel: string; initrd: string; iso?: string };
}

/** The parts of a BareMetalHost the context needs. */
export interface HostObject {
  metadata: ObjectMeta;
  spec: BareMetalHostSpec;
}

export interface RenderContextInput {
  host: HostObject;
  /** The resolved template chain's defaults. */
  defaults: Record<string, unknown>;
  install: InstallContext;
  anvil: AnvilContext;
  secrets?: SecretValues;
}

export type RenderContext = Record<string, unknown> & { host: HostContext; install: InstallContext; anvil: AnvilContext };

export function hostContext(host: HostObject): HostContext {
  const name = host.metadata.name ?? '';
  const mac = host.spec.bootMACAddress.toLowerCase();
  return {
    name,
    namespace: host.metadata.namespace ?? '',
    labels: { ...host.metadata.labels },
    annotations: { ...host.metadata.annotations },
    mac,
    macDashed: mac.replaceAll(':', '-'),
    architecture: host.spec.architecture ?? 'amd64',
    bootMode: host.spec.bootMode ?? 'UEFI',
    hostname: host.spec.hostname ?? name,
  };
}

/**
 * Builds the context. Throws a RenderError of kind 'context' when a variable uses a reserved name, a secretRef has
 * no value, or the host's spec.variables is not a mapping.
 */
export function buildRenderContext(input: RenderContextInput): RenderContext {
  const problems: RenderProblem[] = [];
  const secrets = input.secrets ?? {};
  const variables = input.host.spec.variables ?? {};
  if (!isPlainObject(variables)) problems.push({ message: 'spec.variables of the host must be a mapping' });

  for (const name of RESERVED_VARIABLES) {
    if (Object.hasOwn(input.defaults, name)) problems.push({ message: `template defaults set "${name}", a reserved name (anvil provides ${name}.*)` });
    if (isPlainObject(variables) && Object.hasOwn(variables, name)) {
      problems.push({ message: `spec.variables of the host sets "${name}", a reserved name (anvil provides ${name}.*)` });
    }
    if (Object.hasOwn(secrets, name)) problems.push({ message: `a secretRef uses the variable name "${name}", a reserved name (anvil provides ${name}.*)` });
  }
  for (const ref of input.host.spec.secretRefs ?? []) {
    if (!Object.hasOwn(secrets, ref.variable)) {
      problems.push({ message: `no value for secretRef "${ref.variable}" (Secret "${ref.name}"${ref.key ? `, key "${ref.key}"` : ''})` });
    }
  }
  if (problems.length) throw new RenderError('context', problems);

  const merged = deepMerge(input.defaults, variables);
  for (const [name, value] of Object.entries(secrets)) {
    Object.defineProperty(merged, name, { value: typeof value === 'string' ? value : { ...value }, enumerable: true, writable: true, configurable: true });
  }
  return {
    ...merged,
    host: hostContext(input.host),
    install: { revision: input.install.revision, attempt: input.install.attempt },
    anvil: { ...input.anvil, assets: { ...input.anvil.assets } },
  };
}

/** Every distinct secret string, with a label: `passwordHash` or `sshKeys.id_ed25519` for a whole-Secret ref. */
function secretStrings(secrets: SecretValues | readonly string[]): [label: string, value: string][] {
  if (Array.isArray(secrets)) return (secrets as readonly string[]).map((v) => ['secret', v]);
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(secrets as SecretValues)) {
    if (typeof value === 'string') out.push([name, value]);
    else for (const [key, v] of Object.entries(value)) out.push([`${name}.${key}`, v]);
  }
  return out;
}

/**
 * Replaces every secret value in `text` with `<secret:NAME>`, for anything shown to users or logged (`anvil render`,
 * error messages). Besides the value as is, it masks the forms a template or anvil's YAML output may have turned it
 * into: JSON/YAML double-quoted escaping, base64, and each line of a multi-line value. Masking is textual: a value
 * transformed otherwise by a template (upper-cased, split...) is not recognised.
 */
export function maskSecrets(text: string, secrets: SecretValues | readonly string[]): string {
  const forms = new Map<string, string>();
  for (const [label, value] of secretStrings(secrets)) {
    if (!value) continue;
    const mask = `<secret:${label}>`;
    const add = (form: string) => {
      if (form && !forms.has(form)) forms.set(form, mask);
    };
    add(value);
    add(JSON.stringify(value).slice(1, -1));
    add(Buffer.from(value, 'utf8').toString('base64'));
    if (value.includes('\n')) {
      for (const line of value.split('\n')) if (line.trim().length >= 8) add(line.trim());
    }
  }
  if (!forms.size) return text;
  // longest first, so a value is masked before any shorter value it contains
  const ordered = [...forms.keys()].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(ordered.map(escapeRegExp).join('|'), 'g');
  return text.replace(pattern, (m) => forms.get(m)!);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
