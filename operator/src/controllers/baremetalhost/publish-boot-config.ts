// Publishing a host's boot config through the ports, recorded in status (bootConfig, BootConfigReady): the installer
// for the current attempt, or "boot from disk".
import { BAREMETALHOST_CONDITIONS as C } from '@anvil/core/api';
import { kubeTime } from '@anvil/core/conditions';
import { bootConfigHash, bootConfigSecretName, type BootConfig, IpxeScriptError } from '@anvil/core/bootconfig';
import { bootConfigFor, closedInstallToKeep } from './host-boot-config.js';
import { condition, setError, type HostContext } from './host-context.js';

async function publish(ctx: HostContext, config: BootConfig, alreadyPublished?: { secretName: string; hash: string }): Promise<void> {
  const { secretName, hash } = alreadyPublished ?? (await ctx.ports.publishBootConfig(ctx.host, config));
  if (ctx.status.bootConfig?.hash !== hash || ctx.status.bootConfig?.secretName !== secretName) {
    ctx.status.bootConfig = { secretName, hash, publishedAt: kubeTime(ctx.now) };
  }
  condition(ctx, {
    type: C.BootConfigReady,
    status: 'True',
    reason: config.mode === 'install' ? 'InstallerPublished' : 'LocalBootPublished',
    message: config.mode === 'install' ? 'the boot-server serves the installer to this host' : 'the boot-server tells this host to boot from its disk',
  });
}

/** Publishes "boot from disk": after success, while waiting to retry, or when installing is not allowed. */
export async function publishLocalBoot(ctx: HostContext, reason: string): Promise<void> {
  const published = ctx.ports.publishedBootConfig(ctx.host);
  if (published?.mode === 'local' && ctx.status.bootConfig && published.closedInstall?.installationId === closedInstallToKeep(ctx)?.installationId) return;
  await publish(ctx, bootConfigFor(ctx, undefined, undefined, reason));
}

/** Publishes the installer for the current attempt, reusing the attempt's token so URLs already handed out keep working. */
export async function publishInstall(ctx: HostContext): Promise<boolean> {
  const ci = ctx.status.currentInstall!;
  const published = ctx.ports.publishedBootConfig(ctx.host);
  const reuse = published?.mode === 'install' && published.install?.installationId === ci.installationId;
  const token = reuse ? published.install?.token || undefined : undefined;
  const identity = { revision: ci.revision, attempt: ci.attempt, installationId: ci.installationId!, token: token ?? ctx.ports.newToken() };
  if (reuse && published.install?.inputsHash !== undefined && published.install.inputsHash === ctx.ports.renderInputs(ctx.host, identity)) {
    // Published from exactly these inputs: rendering again would give the same config. An attempt renders once,
    // and a resync of thousands of waiting hosts costs neither renders nor API requests.
    await publish(ctx, published, { secretName: bootConfigSecretName(ctx.host.metadata.name!), hash: bootConfigHash(published) });
    return true;
  }
  const outcome = await ctx.ports.render(ctx.host, identity);
  // Except when what was published carries a secret in clear (published before anvil refused that): withdrawn.
  const unsafe = !outcome.ok && /plain-text password/.test(outcome.message);
  if (!outcome.ok && unsafe && reuse) await publishLocalBoot(ctx, 'withdrawn: the published config carried a plain-text password');
  if (!outcome.ok && reuse && !unsafe) {
    // The attempt is under way with what was published: a template or spec change that no longer renders must not
    // take it away from a machine that may already be booting it. The change is for the next attempt.
    condition(ctx, { type: C.BootConfigReady, status: 'True', reason: 'KeptForAttempt', message: `attempt ${ci.attempt} keeps its published boot config; the changed template does not render: ${outcome.message}` });
    return true;
  }
  if (!outcome.ok) {
    setError(ctx, outcome.errorType, outcome.message);
    condition(ctx, { type: C.BootConfigReady, status: 'False', reason: outcome.reason, message: outcome.message });
    return false;
  }
  let config: BootConfig;
  try {
    config = bootConfigFor(ctx, outcome.rendered, identity.token, 'installing');
  } catch (err) {
    if (!(err instanceof IpxeScriptError)) throw err;
    setError(ctx, 'TemplateError', err.message);
    condition(ctx, { type: C.BootConfigReady, status: 'False', reason: 'InvalidKernelArgs', message: err.message });
    return false;
  }
  await publish(ctx, config);
  const templateName = outcome.rendered.templateChain.at(-1) ?? ctx.host.spec.templateRef?.name ?? '';
  const templateRevision = ctx.ports.templateRevision(ctx.host, outcome.rendered.templateContentHash);
  ci.template = { name: templateName, contentHash: outcome.rendered.templateContentHash, ...(templateRevision !== undefined ? { revision: templateRevision } : {}) };
  return true;
}
