// Renders the boot configuration of one host: context, sandboxed rendering, post-processing and validation of every
// file, the final kernel command line, and a hash of it all. Pure apart from the render worker: the caller passes
// the host, the resolved template, the secret values and anvil's URLs.
import type { BootArtifact } from '@anvil/core/api';
import { canonicalJson, sha256Hex, type ResolvedTemplate } from './chain.js';
import { buildRenderContext, maskSecrets, type AnvilContext, type HostObject, type InstallContext, type SecretValues } from './context.js';
import { RenderError } from './errors.js';
import { finalizeKernelArgs } from './kernel-args.js';
import { processMetaData, processNetworkConfig, processUserData, processVendorData } from './nocloud.js';
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
  /** `#cloud-config` with the autoinstall configuration and anvil's reporting webhook. */
  userData: string;
  metaData: string;
  /** Served only when set (host spec.networkConfig, or the template's networkConfig). */
  networkConfig?: string;
  vendorData?: string;
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
  const missing: string[] = [];
  if (!kernel) missing.push('boot.kernel');
  if (!initrd) missing.push('boot.initrd');
  if (!template.entries.userData) missing.push('userData');
  if (missing.length || !kernel || !initrd) {
    throw new RenderError('validation', [{ message: `no template in the chain ${template.chain.join(' -> ')} sets ${missing.join(', ')}` }]);
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

  // validate every file, reporting all problems at once
  const problems: RenderError[] = [];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof RenderError)) throw err;
      problems.push(err);
      return undefined;
    }
  };
  const userData = attempt(() => processUserData(outputs.userData ?? '', anvil.webhookURL, anvil.webhookRetries));
  const metaData = attempt(() =>
    processMetaData(outputs.metaData, { instanceId: `${context.host.name}-${install.revision}-${install.attempt}`, hostname: context.host.hostname }),
  );
  const networkConfig = attempt(() => processNetworkConfig(outputs.networkConfig, host.spec.networkConfig));
  const vendorData = attempt(() => processVendorData(outputs.vendorData));
  const kernelArgs = attempt(() => finalizeKernelArgs(outputs.kernelArgs, { seedURL: anvil.seedURL, isoURL: iso ? anvil.assets.iso : undefined }));
  if (problems.length) throw new RenderError('validation', problems.flatMap((p) => p.problems));

  const rendered = {
    userData: userData!.text,
    metaData: metaData!,
    ...(networkConfig !== undefined ? { networkConfig } : {}),
    ...(vendorData !== undefined ? { vendorData } : {}),
    kernelArgs: kernelArgs!,
    boot: { kernel, initrd, ...(iso ? { iso } : {}) },
  };
  const total = [rendered.userData, rendered.metaData, networkConfig ?? '', vendorData ?? '', rendered.kernelArgs].reduce(
    (n, s) => n + Buffer.byteLength(s, 'utf8'),
    0,
  );
  if (total > limits.maxOutputBytes) {
    throw new RenderError('output-limit', [{ message: `the rendered files are ${total} bytes, more than the limit of ${limits.maxOutputBytes}` }]);
  }
  return {
    ...rendered,
    templateChain: [...template.chain],
    templateHash: template.contentHash,
    contentHash: `sha256:${sha256Hex(canonicalJson(rendered))}`,
  };
}
