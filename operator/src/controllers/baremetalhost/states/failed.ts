// Failed: the last attempt failed. A retry starts when its backoff is over (while retries are left); a bumped
// revision starts a fresh install at once.
import { done, requeueAfter } from '../../../runtime/result.js';
import { startAttemptIfValid, wantsInstall } from '../attempts.js';
import { allowed, revisionOf, type StateHandler } from '../host-context.js';

export const failed: StateHandler = async (ctx) => {
  const ci = ctx.status.currentInstall;
  if (wantsInstall(ctx) && (!ci || revisionOf(ctx.host) > ci.revision)) return startAttemptIfValid(ctx, false);
  const next = ctx.status.retry?.nextAttemptAt;
  if (!next || !ci || !allowed(ctx.host)) return done();
  const wait = Date.parse(next) - ctx.now.getTime();
  if (wait > 0) return requeueAfter(wait);
  return startAttemptIfValid(ctx, true);
};
