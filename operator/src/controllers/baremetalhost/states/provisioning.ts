// Provisioning: the current attempt's installer is published; waits for the machine to network-boot it (or for the
// installer's verdict, or for the timeout).
import { BAREMETALHOST_CONDITIONS as C } from '@anvil/core/api';
import { done, requeueAfter } from '../../../runtime/result.js';
import { failAttempt, summarize } from '../attempts.js';
import { allowed, condition, RECHECK_INVALID_MS, timeoutMs, transition, type StateHandler } from '../host-context.js';
import { publishInstall, publishLocalBoot } from '../publish-boot-config.js';
import { installing } from './installing.js';

export const provisioning: StateHandler = async (ctx) => {
  const ci = ctx.status.currentInstall;
  if (!ci) {
    transition(ctx, 'Ready', 'no install in progress');
    return done();
  }
  if (!allowed(ctx.host)) {
    summarize(ctx, 'FAIL', 'Cancelled');
    delete ctx.status.currentInstall;
    await publishLocalBoot(ctx, 'installing is not allowed (spec.provisioning.allowed=false)');
    condition(ctx, { type: C.Installing, status: 'False', reason: 'Cancelled', message: 'spec.provisioning.allowed was set to false' });
    transition(ctx, 'Ready', 'install cancelled: spec.provisioning.allowed is false');
    return done();
  }
  // The installer's verdict is processed before anything is rendered: whatever the template says now, a finished
  // install ends (no reinstall loop when the template broke meanwhile).
  if (ci.result) {
    transition(ctx, 'Installing', `the installer reported its result (attempt ${ci.attempt})`);
    return installing(ctx);
  }
  // Only a boot after this attempt started counts (the boot-server stamps requests with millisecond precision).
  const bootSeen = ctx.status.lastBootRequest && Date.parse(ctx.status.lastBootRequest.time) > Date.parse(ci.startedAt);
  const published = ctx.ports.publishedBootConfig(ctx.host);
  const publishedForAttempt = published?.mode === 'install' && published.install?.installationId === ci.installationId;
  // Once the machine runs this attempt's installer, its boot config is frozen: nothing is rendered again for it.
  if (!((bootSeen || ci.lastEvent) && publishedForAttempt) && !(await publishInstall(ctx))) return requeueAfter(RECHECK_INVALID_MS);
  if (bootSeen || ci.lastEvent) {
    condition(ctx, { type: C.Installing, status: 'True', reason: 'InstallerRunning', message: `attempt ${ci.attempt} of revision ${ci.revision}` });
    transition(ctx, 'Installing', `the machine booted the installer (attempt ${ci.attempt})`);
    return installing(ctx);
  }
  const left = Date.parse(ci.startedAt) + timeoutMs(ctx.host) - ctx.now.getTime();
  if (left <= 0) return failAttempt(ctx, 'Timeout', `the machine did not network-boot within ${timeoutMs(ctx.host) / 1000} s`);
  return requeueAfter(left);
};
