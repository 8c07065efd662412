// How a build fails: a failed build waits for its retry time (doubling per failure) in phase Failed, and errors thrown
// by a handler become status (a condition and a message) and the right kind of retry.
import { kubeTime } from '@anvil/core/conditions';
import { ChecksumError } from '../../proxmox/checksums.js';
import { ProxmoxError } from '../../proxmox/errors.js';
import { requeueAfter, requeueWithBackoff, type ReconcileResult } from '../../runtime/result.js';
import { C, condition, type TemplateContext } from './context.js';
import { TemplateConfigError } from './ports.js';

/** Moves to Failed with the retry time in status; the build's history record says FAIL. */
export function failResult(ctx: TemplateContext, reason: string, message: string): ReconcileResult {
  const { status } = ctx;
  const build = status.build;
  const failures = (build?.failures ?? 0) + 1;
  if (build) build.failures = failures;
  const delay = Math.min(ctx.config.retryBaseMs * 2 ** (failures - 1), ctx.config.retryMaxMs);
  status.nextRetryAt = kubeTime(new Date(ctx.now.getTime() + delay));
  status.phase = 'Failed';
  status.message = `${message} (retrying at ${status.nextRetryAt}, or at once when the spec changes)`;
  delete status.currentTask;
  condition(ctx, { type: C.Building, status: 'False', reason, message });
  if (build) void ctx.ports.history.finished({ id: build.id, result: 'FAIL', finishedAt: ctx.now, failureReason: `${reason}: ${message}`.slice(0, 2000) }).catch(() => undefined);
  ctx.ports.event(ctx.template, 'Warning', 'BuildFailed', message);
  return requeueAfter(delay);
}

/**
 * An error a handler threw: a configuration problem is retried slowly, a transient one with backoff (the build keeps
 * its phase), a permanent one fails the build. Anything that is not ours or PVE's is thrown on.
 */
export function errorResult(ctx: TemplateContext, err: unknown): ReconcileResult {
  if (err instanceof TemplateConfigError) {
    condition(ctx, { type: C.Connected, status: 'False', reason: err.reason, message: err.message });
    ctx.status.message = err.message;
    return requeueAfter(ctx.config.retryBaseMs);
  }
  if (err instanceof ChecksumError) {
    if (err.transient) {
      condition(ctx, { type: C.SourceResolved, status: 'False', reason: 'ChecksumUnavailable', message: err.message });
      ctx.status.message = `${err.message} (will retry)`;
      return requeueWithBackoff();
    }
    condition(ctx, { type: C.SourceResolved, status: 'False', reason: 'InvalidSource', message: err.message });
    return failResult(ctx, 'InvalidSource', err.message);
  }
  if (err instanceof ProxmoxError) return proxmoxErrorResult(ctx, err);
  throw err;
}

function proxmoxErrorResult(ctx: TemplateContext, err: ProxmoxError): ReconcileResult {
  if (err.code === 'auth' || err.code === 'tls' || err.code === 'network') {
    const reason = err.code === 'auth' ? 'Unauthorized' : err.code === 'tls' ? 'TLSError' : 'Unreachable';
    condition(ctx, { type: C.Connected, status: 'False', reason, message: err.message });
    ctx.status.message = err.message;
    return err.transient ? requeueWithBackoff() : requeueAfter(ctx.config.retryBaseMs);
  }
  if (err.transient) {
    ctx.status.message = `Proxmox VE: ${err.message} (will retry)`;
    return requeueWithBackoff();
  }
  const reason = err.code === 'permission' ? 'PermissionDenied' : err.code === 'parameter' ? 'InvalidParameter' : 'ProxmoxError';
  return failResult(ctx, reason, `Proxmox VE refused: ${err.message}`);
}
