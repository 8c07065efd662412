// Renders a host's boot config from the API server's view: the template chain from the cache, the referenced
// Secret values fetched on demand (never logged, never put in status; held only while renders use them, see
// secret-values.ts), anvil's URLs for the host.
// Also fingerprints those inputs from the caches alone, so an unchanged host is not rendered again.
import { AUTOINSTALLTEMPLATE_KIND, AUTOINSTALLTEMPLATE_PLURAL, GROUP, VERSION, type AutoinstallTemplate, type BareMetalHost } from '@anvil/core/api';
import { assetURL, checkKernelArgs, ignitionConfigURL, IpxeScriptError, preseedURL } from '@anvil/core/bootconfig';
import { type KubeClient, type KubeObject, type ResourceType, type CacheReader } from '@anvil/core/kube';
import { RenderError, formatProblem, renderBootConfig, resolveTemplate, type TemplateRenderer } from '../../render/index.js';
import { canonicalJson, sha256Hex } from '../../render/chain.js';
import { CONTROLLER_REVISION, type TemplateRevisionData } from '../autoinstalltemplate/revisions.js';
import type { HostRenderer } from './kube-ports.js';
import type { HostUrls, InstallIdentity, RenderOutcome } from './ports.js';
import { SecretValues } from './secret-values.js';

export const AutoinstallTemplateType: ResourceType = { group: GROUP, version: VERSION, kind: AUTOINSTALLTEMPLATE_KIND, plural: AUTOINSTALLTEMPLATE_PLURAL, namespaced: true };

export interface HostRenderDeps {
  client: KubeClient;
  templates: CacheReader<AutoinstallTemplate & KubeObject>;
  /**
   * The metadata of the Secrets hosts reference (a metadata-only cache): their versions go into the inputs
   * fingerprint. Without it the inputs cannot be known and every render is done.
   */
  secrets?: CacheReader<KubeObject>;
  renderer?: TemplateRenderer;
}

/**
 * Bumped when the rendering itself changes in a way that must re-render hosts whose inputs did not change.
 * 2: plain-text passwords are refused, password_hash.
 */
const RENDER_INPUTS_VERSION = 2;

/** Status messages stay well below the API's limits (status.errorMessage: 4096) however many problems a render has. */
const MAX_MESSAGE = 2000;

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

async function secretValues(secrets: SecretValues, host: BareMetalHost): Promise<{ values: Record<string, string | Record<string, string>> } | { missing: string }> {
  const values: Record<string, string | Record<string, string>> = {};
  for (const [i, ref] of (host.spec.secretRefs ?? []).entries()) {
    const secret = await secrets.get(host.metadata.namespace!, ref.name);
    const where = `spec.secretRefs[${i}]`;
    if (!secret) return { missing: `${where}: Secret ${host.metadata.namespace}/${ref.name} not found` };
    const data = secret.data ?? {};
    if (ref.key) {
      if (data[ref.key] === undefined) return { missing: `${where}: Secret ${host.metadata.namespace}/${ref.name} has no key "${ref.key}"` };
      values[ref.variable] = decode(data[ref.key]!);
    } else {
      values[ref.variable] = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, decode(v)]));
    }
  }
  return { values };
}

const REASONS: Record<string, string> = {
  chain: 'TemplateChainInvalid',
  context: 'InvalidVariables',
  render: 'RenderFailed',
  timeout: 'RenderTimeout',
  'output-limit': 'RenderTooLarge',
  memory: 'RenderTooLarge',
  validation: 'InvalidInstallerConfig',
};

/**
 * The fingerprint of a render's inputs: the host's identity, metadata and spec, the template chain's content hash (or
 * why it does not resolve), the uid and resourceVersion of each referenced Secret, the install identity and URLs.
 */
function inputsHash(deps: HostRenderDeps, host: BareMetalHost, install: InstallIdentity, urls: HostUrls): string | undefined {
  const secretsCache = deps.secrets;
  if (!secretsCache) return undefined;
  const namespace = host.metadata.namespace;
  const templateName = host.spec.templateRef?.name;
  let template: string;
  try {
    const pin = host.spec.templateRef?.revision;
    const pinnedHash = pin === undefined ? undefined : deps.templates.get(namespace, templateName ?? '')?.status?.revisions?.find((r) => r.revision === pin)?.contentHash;
    template = pin !== undefined ? `pinned ${pin}: ${pinnedHash ?? 'not kept'}` : templateName ? resolveTemplate(templateName, (name) => deps.templates.get(namespace, name)?.spec).contentHash : '';
  } catch (err) {
    template = `error: ${err instanceof Error ? err.message : String(err)}`;
  }
  const secrets = (host.spec.secretRefs ?? []).map((ref) => {
    const meta = secretsCache.get(namespace, ref.name)?.metadata;
    return meta ? `${ref.name}:${meta.uid}@${meta.resourceVersion}` : `${ref.name}:absent`;
  });
  const { name, uid, labels, annotations } = host.metadata;
  return sha256Hex(canonicalJson({ v: RENDER_INPUTS_VERSION, host: { namespace, name, uid, labels, annotations, spec: host.spec }, template, secrets, install, urls }));
}

/** Why a pinned revision cannot be rendered: not (or no longer) kept by the template. */
class RevisionNotKept extends Error {}

/**
 * The specs a host renders from: the template chain's current ones, or those kept for the revision the host pins
 * (spec.templateRef.revision), read from its ControllerRevision (immutable, so fetched once per name).
 */
function pinnedRevisionReader(deps: HostRenderDeps) {
  const kept = new Map<string, Promise<TemplateRevisionData | undefined>>();
  return {
    /** The kept revision's entry for a host that pins one (from the template's status), or undefined. */
    entry(host: BareMetalHost) {
      const pinned = host.spec.templateRef?.revision;
      if (pinned === undefined) return undefined;
      const template = deps.templates.get(host.metadata.namespace, host.spec.templateRef!.name);
      const entry = template?.status?.revisions?.find((r) => r.revision === pinned);
      if (!entry) throw new RevisionNotKept(`spec.templateRef.revision ${pinned}: AutoinstallTemplate ${host.spec.templateRef!.name} keeps no such revision (kept: ${(template?.status?.revisions ?? []).map((r) => r.revision).join(', ') || 'none'})`);
      return entry;
    },
    async specs(host: BareMetalHost): Promise<((name: string) => AutoinstallTemplate['spec'] | undefined) | undefined> {
      const entry = this.entry(host);
      if (!entry) return undefined;
      const key = `${host.metadata.namespace}/${entry.controllerRevision}`;
      let pending = kept.get(key);
      if (!pending) {
        pending = deps.client.get<KubeObject & { data?: TemplateRevisionData }>(CONTROLLER_REVISION, { namespace: host.metadata.namespace, name: entry.controllerRevision }).then((o) => o?.data);
        kept.set(key, pending);
        pending.then((d) => d ?? kept.delete(key), () => kept.delete(key));
      }
      const data = await pending;
      if (!data || data.contentHash !== entry.contentHash) throw new RevisionNotKept(`spec.templateRef.revision ${entry.revision}: its ControllerRevision ${entry.controllerRevision} is missing`);
      return (name) => data.specs[name];
    },
  };
}

export function makeHostRender(deps: HostRenderDeps): HostRenderer {
  return {
    render: makeRender(deps),
    inputsHash: (host, install, urls) => inputsHash(deps, host, install, urls),
  };
}

function makeRender(deps: HostRenderDeps): HostRenderer['render'] {
  const pinned = pinnedRevisionReader(deps);
  // A reconcile renders a host up to twice (validation, then the attempt) from its own copy of the host: the Secrets
  // are read once per copy, so once per reconcile, and a changed Secret is seen by the next reconcile.
  const secretsPerHostCopy = new WeakMap<BareMetalHost, ReturnType<typeof secretValues>>();
  const secretReader = new SecretValues(deps.client, deps.secrets);
  const secretsOf = (host: BareMetalHost): ReturnType<typeof secretValues> => {
    let pending = secretsPerHostCopy.get(host);
    if (!pending) {
      pending = secretValues(secretReader, host);
      secretsPerHostCopy.set(host, pending);
      // A failed read is not remembered: the next render of this copy tries again.
      pending.catch(() => secretsPerHostCopy.delete(host));
    }
    return pending;
  };
  return async (host, install, urls): Promise<RenderOutcome> => {
    const templateName = host.spec.templateRef?.name;
    if (!templateName) return { ok: false, errorType: 'ValidationError', reason: 'NoTemplate', message: 'spec.templateRef is not set' };
    const live = (name: string) => deps.templates.get(host.metadata.namespace, name)?.spec;
    let lookup = live;
    try {
      lookup = (await pinned.specs(host)) ?? live;
    } catch (err) {
      if (err instanceof RevisionNotKept) return { ok: false, errorType: 'ValidationError', reason: 'TemplateRevisionNotKept', message: err.message };
      throw err;
    }
    try {
      // Fingerprinted before reading anything: a Secret that changes during the render makes the next one differ.
      const fingerprint = inputsHash(deps, host, install, urls);
      const template = resolveTemplate(templateName, lookup);
      const secrets = await secretsOf(host);
      if ('missing' in secrets) return { ok: false, errorType: 'ValidationError', reason: 'SecretNotFound', message: secrets.missing };
      const { kernel, initrd, iso } = template.boot;
      const assets = {
        kernel: kernel ? assetURL(urls.bootServerURL, kernel) : '',
        initrd: initrd ? assetURL(urls.bootServerURL, initrd) : '',
        ...(iso ? { iso: assetURL(urls.bootServerURL, iso) } : {}),
      };
      const rendered = await renderBootConfig(
        {
          host,
          template,
          install: { revision: install.revision, attempt: install.attempt },
          anvil: {
            ...urls,
            ignitionURL: ignitionConfigURL(urls.bootServerURL, host.spec.bootMACAddress, install.token),
            preseedURL: preseedURL(urls.bootServerURL, host.spec.bootMACAddress, install.token),
            assets,
          },
          secrets: secrets.values,
          // one salt per attempt: a re-render of the attempt publishes the same password hashes
          passwordSaltKey: install.installationId,
        },
        deps.renderer ? { renderer: deps.renderer } : {},
      );
      try {
        checkKernelArgs(rendered.kernelArgs);
      } catch (err) {
        if (!(err instanceof IpxeScriptError)) throw err;
        return { ok: false, errorType: 'TemplateError', reason: 'InvalidKernelArgs', message: `boot.kernelArgs of template ${rendered.templateChain.at(-1) ?? ''}: ${err.message}` };
      }
      return {
        ok: true,
        rendered: {
          ...(rendered.installer !== undefined ? { installer: rendered.installer } : {}),
          userData: rendered.userData,
          metaData: rendered.metaData,
          ...(rendered.networkConfig !== undefined ? { networkConfig: rendered.networkConfig } : {}),
          ...(rendered.vendorData !== undefined ? { vendorData: rendered.vendorData } : {}),
          ...(rendered.ignition !== undefined ? { ignition: rendered.ignition } : {}),
          ...(rendered.preseed !== undefined ? { preseed: rendered.preseed } : {}),
          kernelArgs: rendered.kernelArgs,
          boot: rendered.boot,
          templateChain: rendered.templateChain,
          templateContentHash: template.contentHash,
          contentHash: rendered.contentHash,
          ...(fingerprint !== undefined ? { inputsHash: fingerprint } : {}),
        },
      };
    } catch (err) {
      if (err instanceof RenderError) {
        return { ok: false, errorType: err.kind === 'validation' ? 'ValidationError' : 'TemplateError', reason: REASONS[err.kind] ?? 'RenderFailed', message: boundedMessage(err) };
      }
      throw err;
    }
  };
}

/** The problems of a render, as many as fit in MAX_MESSAGE, then how many more there are. */
export function boundedMessage(err: RenderError): string {
  if (err.message.length <= MAX_MESSAGE) return err.message;
  const parts: string[] = [];
  let length = 0;
  for (const problem of err.problems) {
    const text = formatProblem(problem);
    if (parts.length > 0 && length + text.length + 2 > MAX_MESSAGE - 40) break;
    parts.push(text.length > MAX_MESSAGE - 40 ? `${text.slice(0, MAX_MESSAGE - 41)}…` : text);
    length += text.length + 2;
  }
  const more = err.problems.length - parts.length;
  return more > 0 ? `${parts.join('; ')}; and ${more} more problem${more === 1 ? '' : 's'}` : parts.join('; ');
}
