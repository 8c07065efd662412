// Installing: the installer runs; its verdict ends the attempt (Provisioned, or Failed with a retry), and an installer
// that stops making progress is timed out.
import { BAREMETALHOST_CONDITIONS as C } from '@anvil/core/api';
import { done, requeueAfter } from '../../../runtime/result.js';
import { failAttempt, summarize } from '../attempts.js';
import { clearError, condition, timeoutMs, transition, type StateHandler } from '../host-context.js';
import { publishLocalBoot } from '../publish-boot-config.js';

export const installing: StateHandler = async (ctx) => {
  const ci = ctx.status.currentInstall;
  if (!ci) {
    transition(ctx, 'Ready', 'no install in progress');
    return done();
  }
  if (ci.result === 'SUCCESS') {
    summarize(ctx, 'SUCCESS', 'Succeeded');
    ctx.status.provisionedRevision = ci.revision;
    ctx.status.retry = { count: 0 };
    clearError(ctx);
    await publishLocalBoot(ctx, `provisioned (revision ${ci.revision})`);
    condition(ctx, { type: C.Installing, status: 'False', reason: 'Succeeded', message: `attempt ${ci.attempt} finished` });
    condition(ctx, { type: C.Provisioned, status: 'True', reason: 'Succeeded', message: `revision ${ci.revision} installed` });
    ci.progress = 'done';
    transition(ctx, 'Provisioned', `revision ${ci.revision} installed (attempt ${ci.attempt})`);
    return done();
  }
  if (ci.result === 'FAIL') {
    // The reason is the deepest failing step the boot-server recorded, not whichever event happened to come last.
    const what = ci.failure ? `${ci.failure.stage}: ${ci.failure.reason}` : 'the installer reported FAIL';
    return failAttempt(ctx, 'InstallerFailed', what);
  }
  if (ci.failure) {
    condition(ctx, { type: C.Installing, status: 'True', reason: 'InstallerFailing', message: `attempt ${ci.attempt}: ${ci.failure.stage} failed (${ci.failure.reason}); waiting for the installer's result` });
  }
  // Activity by the server's clock: an installer whose clock is off (years ahead or behind) must neither time out at
  // once nor never.
  const eventSeen = ci.lastEvent ? Date.parse(ci.lastEvent.receivedAt ?? ci.lastEvent.time) : 0;
  const lastActivity = Math.max(Date.parse(ci.startedAt), Math.min(eventSeen, ctx.now.getTime()), ctx.status.lastBootRequest ? Date.parse(ctx.status.lastBootRequest.time) : 0);
  const left = lastActivity + timeoutMs(ctx.host) - ctx.now.getTime();
  if (left <= 0) return failAttempt(ctx, 'Timeout', `no progress from the installer for ${timeoutMs(ctx.host) / 1000} s`);
  return requeueAfter(Math.min(left, timeoutMs(ctx.host)));
};
