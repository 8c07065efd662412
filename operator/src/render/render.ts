// Renders the boot configuration of one host: context, sandboxed rendering, post-processing and validation of every
// file by the template's installer kind (operator/src/installers), the final kernel command line, and a hash of it all. Pure apart from the render worker: the caller passes
// the host, the resolved template, the secret values and anvil's URLs.
import type { BootArtifact, InstallerKind } from '@anvil/core/api';
import { canonicalJson, sha256Hex, type ResolvedTemplate } from './chain.js';
import { buildRenderContext, maskSecrets, type AnvilContext, type HostObject, type InstallContext, type SecretValues } from './context.js';
import { RenderError } from './errors.js';
import { installerFor } from '../installers/index.js';
import { passwordSalts } from './password-salts.js';
import { defaultRenderer, type TemplateRenderer } from './renderer.js';
import type { SandboxLimits } from './sandbox.js';

export interface RenderLimits extends SandboxLimits {
  /** Time limit of the render in milliseconds. */
  timeoutMs: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = {
  timeoutMs: 2000,
  // everything a host receives must fit in one Secret (1 MiB) with room to spare
  maxOutputBytes: 512 * 1024,
  maxRangeLength: 100_000,
};

export interface RenderBootConfigInput {
  host: HostObject;
  template: ResolvedTemplate;
  install: InstallContext;
  anvil: AnvilContext;
  /** Secret values by secretRef variable name; every secretRef of the host needs one. */
  secrets?: SecretValues;
  /**
   * Keys the salts of password_hash: the install attempt's installationId, so that rendering the attempt again
   * publishes the same hashes and a new attempt new ones. Default: the host's uid, revision and attempt.
   */
  passwordSaltKey?: string;
}

export interface RenderBootConfigOptions {
  /** Where templates run (default: the process-wide worker renderer). */
  renderer?: TemplateRenderer;
  limits?: Partial<RenderLimits>;
}

/** Everything a host receives to install, rendered and validated. */
export interface RenderedBootConfig {
  /** The template's installer kind; unset for ubuntu-autoinstall. */
  installer?: InstallerKind;
  /** `#cloud-config` with the autoinstall configuration and anvil's reporting webhook (empty for other kinds). */
  userData: string;
  /** Empty for kinds other than ubuntu-autoinstall. */
  metaData: string;
  /** Served only when set (host spec.networkConfig, or the template's networkConfig). */
  networkConfig?: string;
  vendorData?: string;
  /** The Ignition config as served (JSON, with anvil's report unit), for installer: ignition. */
  ignition?: string;
  /** The preseed file as served (with anvil's report hooks), for installer: debian-preseed. */
  preseed?: string;
  /** The installer's kernel command line, raw (quote it for the boot script language, see kernel-args.ts). */
  kernelArgs: string;
  boot: { kernel: BootArtifact; initrd: BootArtifact; iso?: BootArtifact };
  /** The template chain, base first. */
  templateChain: string[];
  /** The resolved template's contentHash. */
  templateHash: string;
  /** `sha256:<hex>` over everything above but the template chain and hash: changes iff what the host receives does. */
  contentHash: string;
}

/**
 * Renders and validates a host's boot configuration. Throws a RenderError (kind chain, context, render, timeout,
 * output-limit, memory or validation) whose messages have every secret value masked.
 */
export async function renderBootConfig(input: RenderBootConfigInput, options: RenderBootConfigOptions = {}): Promise<RenderedBootConfig> {
  const secrets = input.secrets ?? {};
  try {
    return await render(input, options);
  } catch (err) {
    if (err instanceof RenderError) throw err.mapMessages((text) => maskSecrets(text, secrets));
    throw new RenderError('render', [{ message: maskSecrets(err instanceof Error ? err.message : String(err), secrets) }]);
  }
}

async function render(input: RenderBootConfigInput, options: RenderBootConfigOptions): Promise<RenderedBootConfig> {
  const limits = { ...DEFAULT_RENDER_LIMITS, ...options.limits };
  const { template, host, install, anvil } = input;
  const { kernel, initrd, iso } = template.boot;
  const installer = installerFor(template.installer);
  const missing: string[] = [];
  if (!kernel) missing.push('boot.kernel');
  if (!initrd) missing.push('boot.initrd');
  for (const field of installer.requiredFields) if (!template.entries[field]) missing.push(field);
  if (missing.length || !kernel || !initrd) {
    throw new RenderError('validation', [{ message: `no template in the chain ${template.chain.join(' -> ')} sets ${missing.join(', ')}` }]);
  }
  const unused = Object.keys(template.entries).filter((field) => !(installer.fields as readonly string[]).includes(field));
  if (unused.length || (iso && !installer.allowsIso)) {
    const what = [...unused, ...(iso && !installer.allowsIso ? ['boot.iso'] : [])];
    throw new RenderError('validation', [
      { message: `the chain ${template.chain.join(' -> ')} is for installer ${installer.kind}, which does not use ${what.join(', ')}: remove ${what.length > 1 ? 'them' : 'it'} or set spec.installer` },
    ]);
  }
  if (iso && !anvil.assets.iso) throw new RenderError('context', [{ message: 'the boot recipe has an ISO but no URL to serve it was given (anvil.assets.iso)' }]);

  const context = buildRenderContext({ host, defaults: template.defaults, install, anvil, secrets: input.secrets });
  const saltKey = input.passwordSaltKey ?? `${host.metadata.uid ?? ''}/${install.revision}/${install.attempt}`;
  const renderer = options.renderer ?? defaultRenderer();
  const outputs = await renderer.render(
    {
      sources: template.sources,
      entries: template.entries,
      context,
      limits: { maxOutputBytes: limits.maxOutputBytes, maxRangeLength: limits.maxRangeLength },
      passwordSalts: passwordSalts(host, input.secrets ?? {}, saltKey),
    },
    { timeoutMs: limits.timeoutMs },
  );

  // the installer validates every file and reports all problems at once
  const { files, kernelArgs } = installer.render({
    outputs,
    urls: { ...anvil, ...(iso ? { isoURL: anvil.assets.iso } : {}) },
    host: { name: context.host.name, hostname: context.host.hostname, ...(host.spec.networkConfig !== undefined ? { networkConfig: host.spec.networkConfig } : {}) },
    install,
  });
  // ubuntu-autoinstall output keeps the shape (and so the contentHash) it had before installer kinds existed
  const { installer: kind, ...served } = files;
  const rendered = {
    ...(kind === 'ubuntu-autoinstall' ? {} : { installer: kind }),
    ...served,
    kernelArgs,
    boot: { kernel, initrd, ...(iso ? { iso } : {}) },
  };
  const total = Object.values(served).reduce((n: number, s: string | undefined) => n + Buffer.byteLength(s ?? '', 'utf8'), Buffer.byteLength(kernelArgs, 'utf8'));
  if (total > limits.maxOutputBytes) {
    throw new RenderError('output-limit', [{ message: `the rendered files are ${total} bytes, more than the limit of ${limits.maxOutputBytes}` }]);
  }
  return {
    userData: '',
    metaData: '',
    ...rendered,
    templateChain: [...template.chain],
    templateHash: template.contentHash,
    contentHash: `sha256:${sha256Hex(canonicalJson(rendered))}`,
  };
}
