// The checks a host must pass before it can be installed: a template, a boot MAC of its own, a template chain that
// renders for it. A failure is explained in status (Ready=False with the reason).
import { type BareMetalHost, BAREMETALHOST_CONDITIONS as C } from '@anvil/core/api';
import { normalizeMac } from '@anvil/core/bootconfig';
import { clearError, condition, hostRef, setError, type HostContext } from './host-context.js';

/** Checks everything that must hold before a host can be installed. Returns false (with status explained) if not. */
export async function validateHost(ctx: HostContext): Promise<boolean> {
  const { host } = ctx;
  if (!host.spec.templateRef?.name) {
    condition(ctx, { type: C.Ready, status: 'False', reason: 'NoTemplate', message: 'spec.templateRef is not set: nothing to install' });
    return false;
  }
  const mac = normalizeMac(host.spec.bootMACAddress);
  const owner = macOwner(host, ctx.ports.hostsWithMac(mac));
  if (owner !== host) {
    const message = `boot MAC ${mac} is already used by BareMetalHost ${hostRef(owner)}; each host needs its own MAC`;
    setError(ctx, 'ValidationError', message);
    condition(ctx, { type: C.Ready, status: 'False', reason: 'DuplicateMAC', message });
    return false;
  }
  const outcome = await ctx.ports.validate(host);
  if (!outcome.ok) {
    setError(ctx, outcome.errorType, outcome.message);
    condition(ctx, { type: C.Ready, status: 'False', reason: outcome.reason, message: outcome.message });
    return false;
  }
  if (ctx.status.errorType === 'ValidationError' || ctx.status.errorType === 'TemplateError') clearError(ctx);
  condition(ctx, { type: C.Ready, status: 'True', reason: 'Valid', message: `template chain ${outcome.templateChain.join(' -> ')} renders` });
  return true;
}

/**
 * Of several hosts declaring one MAC, the oldest keeps it (then the first by namespace/name), so the winner is stable.
 * Only hosts with a template compete: one without (a Discovered host not accepted yet) is never installed, and
 * declaring its machine in a host of one's own must not be refused because of it.
 */
export function macOwner(host: BareMetalHost, sameMac: BareMetalHost[]): BareMetalHost {
  const all = [host, ...sameMac.filter((h) => h.metadata.uid !== host.metadata.uid && h.spec.templateRef?.name)];
  all.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || hostRef(a).localeCompare(hostRef(b)));
  return all[0]!;
}
