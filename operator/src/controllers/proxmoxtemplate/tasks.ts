// PVE tasks of a build: a handler starts one and saves its UPID in status.currentTask; a later reconcile looks at it.
// Nothing waits for a build task inside a reconcile.
import { kubeTime } from '@anvil/core/conditions';
import { classifyMessage, ProxmoxError } from '../../proxmox/errors.js';
import { requeueAfter, requeueWithBackoff, type ReconcileResult } from '../../runtime/result.js';
import type { TemplateContext } from './context.js';
import { failResult } from './failure.js';

/** Saves the started task; the caller returns pollSoon(ctx), so the status is written before the next look. */
export function startTask(ctx: TemplateContext, upid: string, type: string, message: string): void {
  ctx.status.currentTask = { upid, type, node: ctx.api.node, startedAt: kubeTime(ctx.now) };
  ctx.status.message = message;
}

export const pollSoon = (ctx: TemplateContext): ReconcileResult => requeueAfter(ctx.config.taskPollMs);

export type TaskOutcome = 'ok' | 'already-exists' | ReconcileResult;

/**
 * Looks at the saved task: still running (poll again), succeeded, or failed (the build fails with its log).
 * `doneAnyway` says whether the step's work is in place although the task failed (another builder won a race).
 */
export async function pollTask(ctx: TemplateContext, doneAnyway?: () => Promise<boolean>): Promise<TaskOutcome> {
  const task = ctx.status.currentTask!;
  let state;
  try {
    state = await ctx.api.taskStatus(task.upid!);
  } catch (err) {
    // The task is gone (node rebooted, log rotated): the step handler checks what is on the node instead.
    if (err instanceof ProxmoxError && err.code === 'not-found') {
      delete ctx.status.currentTask;
      return 'ok';
    }
    throw err;
  }
  if (state.status === 'running') return pollSoon(ctx);
  const result = await ctx.api.waitForTask(task.upid!);
  ctx.ports.taskFinished(state.type, result.ok, Math.max(0, ctx.now.getTime() / 1000 - state.starttime));
  delete ctx.status.currentTask;
  if (result.ok || (await doneAnyway?.())) return 'ok';
  ctx.status.lastFailedTask = {
    upid: result.upid,
    type: result.type,
    exitStatus: result.exitStatus.slice(0, 1024),
    log: result.logTail.join('\n').slice(-8192),
    finishedAt: kubeTime(ctx.now),
  };
  const code = classifyMessage(result.exitStatus);
  if (code === 'already-exists' && result.type === 'qmcreate') return 'already-exists';
  if (code === 'lock') {
    ctx.status.message = `PVE task ${result.type} could not get its lock (${result.exitStatus}); will retry`;
    return requeueWithBackoff();
  }
  return failResult(ctx, 'TaskFailed', `PVE task ${result.type} failed: ${result.exitStatus}`);
}

/** A task outcome other than success, outside the create step (where "already exists" means a VMID race). */
export function notOk(ctx: TemplateContext, outcome: Exclude<TaskOutcome, 'ok'>): ReconcileResult {
  return outcome === 'already-exists' ? failResult(ctx, 'TaskFailed', 'PVE reports that the VM already exists') : outcome;
}
