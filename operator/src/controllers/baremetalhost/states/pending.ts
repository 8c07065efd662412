// Pending: a new or changed host is checked (template, MAC, references) before anything is installed.
import { done, requeueAfter } from '../../../runtime/result.js';
import { startAttempt, wantsInstall } from '../attempts.js';
import { DISCOVERED_LABEL, RECHECK_INVALID_MS, transition, type StateHandler } from '../host-context.js';
import { validateHost } from '../validate-host.js';

export const pending: StateHandler = async (ctx) => {
  if (!ctx.host.spec.templateRef?.name && ctx.host.metadata.labels?.[DISCOVERED_LABEL] === 'true') {
    transition(ctx, 'Discovered', 'seen by the boot-server; give it a spec.templateRef to install it');
    return done();
  }
  if (!(await validateHost(ctx))) return requeueAfter(RECHECK_INVALID_MS);
  if (wantsInstall(ctx)) {
    // Valid and an install is wanted: straight on to it, as Ready would do next in this same reconcile, without an
    // Event for the pass through Ready (10,000 requests when 10,000 hosts are applied at once).
    ctx.status.state = 'Ready';
    return startAttempt(ctx, false);
  }
  transition(ctx, 'Ready', 'references resolved and the template renders');
  return done();
};
