// Ready: valid and idle. Starts the first install when one is wanted; otherwise the host boots from its disk.
import { done } from '../../../runtime/result.js';
import { startAttempt, wantsInstall } from '../attempts.js';
import { allowed, transition, type StateHandler } from '../host-context.js';
import { publishLocalBoot } from '../publish-boot-config.js';
import { validateHost } from '../validate-host.js';

export const ready: StateHandler = async (ctx) => {
  if (!(await validateHost(ctx))) {
    transition(ctx, 'Pending', 'validation failed', 'Warning');
    return done();
  }
  if (wantsInstall(ctx)) return startAttempt(ctx, false);
  await publishLocalBoot(ctx, allowed(ctx.host) ? 'nothing to install' : 'installing is not allowed (spec.provisioning.allowed=false)');
  return done();
};
