// Install attempts: when one is wanted, starting one, and closing one (summary in status.recentInstalls, retries with
// exponential backoff until spec.provisioning.maxRetries).
import { BAREMETALHOST_CONDITIONS as C, MAX_RECENT_INSTALLS } from '@anvil/core/api';
import { kubeTime } from '@anvil/core/conditions';
import { commitThenContinue, done, requeueAfter, type ReconcileResult } from '../../runtime/result.js';
import { allowed, condition, maxRetries, RECHECK_INVALID_MS, revisionOf, setError, transition, type HostContext } from './host-context.js';
import { publishLocalBoot } from './publish-boot-config.js';
import { validateHost } from './validate-host.js';

export const wantsInstall = (ctx: HostContext): boolean =>
  allowed(ctx.host) && (ctx.status.provisionedRevision === undefined || revisionOf(ctx.host) > ctx.status.provisionedRevision);

/** Attempts count every install of the host (first install, retries and reinstalls), never reused. */
const nextAttempt = (ctx: HostContext): number =>
  Math.max(ctx.status.currentInstall?.attempt ?? 0, ctx.status.recentInstalls?.[0]?.attempt ?? 0) + 1;

/** Starts the next attempt (a retry keeps the retry count) and moves the host to Provisioning. */
export function startAttempt(ctx: HostContext, retry: boolean): ReconcileResult {
  const revision = revisionOf(ctx.host);
  const attempt = nextAttempt(ctx);
  ctx.status.currentInstall = { attempt, revision, installationId: ctx.ports.newInstallationId(), startedAt: ctx.now.toISOString(), phase: 'waiting for boot', progress: 'waiting for boot' };
  if (!retry) ctx.status.retry = { count: 0 };
  else if (ctx.status.retry) delete ctx.status.retry.nextAttemptAt;
  condition(ctx, { type: C.Provisioned, status: 'False', reason: 'Provisioning', message: `installing revision ${revision}` });
  condition(ctx, { type: C.Installing, status: 'False', reason: 'WaitingForBoot', message: `attempt ${attempt}: waiting for the machine to network-boot` });
  transition(ctx, 'Provisioning', `revision ${revision}, attempt ${attempt}: publishing boot config, waiting for the machine to network-boot`);
  // Save the new attempt before publishing anything for it: a reconcile working from a stale copy then fails its
  // write (409) instead of handing the machine a token for an attempt that never becomes current.
  return commitThenContinue();
}

/** Starts an attempt if the host still validates; otherwise looks again later (the reason is in status). */
export async function startAttemptIfValid(ctx: HostContext, retry: boolean): Promise<ReconcileResult> {
  if (!(await validateHost(ctx))) return requeueAfter(RECHECK_INVALID_MS);
  return startAttempt(ctx, retry);
}

/** Records the finished attempt in status.recentInstalls (newest first, bounded). */
export function summarize(ctx: HostContext, result: 'SUCCESS' | 'FAIL', reason: string, message?: string): void {
  const ci = ctx.status.currentInstall;
  if (!ci) return;
  const finishedAt = ci.finishedAt ?? kubeTime(ctx.now);
  ci.finishedAt = finishedAt;
  ci.result = result;
  const summary = {
    attempt: ci.attempt,
    revision: ci.revision,
    ...(ci.installationId ? { installationId: ci.installationId } : {}),
    startedAt: ci.startedAt,
    finishedAt,
    result,
    durationSeconds: Math.max(0, Math.round((Date.parse(finishedAt) - Date.parse(ci.startedAt)) / 1000)),
    reason,
    ...(result === 'FAIL' && ci.failure ? { failedStage: ci.failure.stage } : {}),
    ...(result === 'FAIL' && message ? { message: message.slice(0, 1024) } : {}),
    ...(ci.template ? { template: ci.template } : {}),
  };
  ctx.status.recentInstalls = [summary, ...(ctx.status.recentInstalls ?? [])].slice(0, MAX_RECENT_INSTALLS);
}

/** Fails the current attempt: the host boots from disk and is Failed, with a retry scheduled while retries are left. */
export async function failAttempt(ctx: HostContext, reason: 'InstallerFailed' | 'Timeout', message: string): Promise<ReconcileResult> {
  const ci = ctx.status.currentInstall!;
  summarize(ctx, 'FAIL', reason, message);
  setError(ctx, reason === 'Timeout' ? 'InstallTimeout' : 'InstallFailed', message);
  condition(ctx, { type: C.Installing, status: 'False', reason, message });
  const retries = ctx.status.retry?.count ?? 0;
  await publishLocalBoot(ctx, `attempt ${ci.attempt} failed`);
  if (retries < maxRetries(ctx.host)) {
    const delay = Math.min(ctx.config.retryBaseMs * 2 ** retries, ctx.config.retryMaxMs);
    ctx.status.retry = { count: retries + 1, nextAttemptAt: new Date(ctx.now.getTime() + delay).toISOString() };
    condition(ctx, { type: C.Provisioned, status: 'False', reason: 'RetryScheduled', message: `attempt ${ci.attempt} failed (${message}); retry ${retries + 1} of ${maxRetries(ctx.host)} at ${ctx.status.retry.nextAttemptAt}` });
    transition(ctx, 'Failed', `attempt ${ci.attempt} failed: ${message}; retrying in ${Math.round(delay / 1000)} s`, 'Warning');
    return requeueAfter(delay);
  }
  ctx.status.retry = { count: retries };
  const final = `install of revision ${ci.revision} failed after ${retries + 1} attempt(s): ${message}. Bump spec.provisioning.revision to try again.`;
  ctx.status.errorMessage = final;
  condition(ctx, { type: C.Provisioned, status: 'False', reason: 'RetriesExhausted', message: final });
  transition(ctx, 'Failed', final, 'Warning');
  return done();
}
