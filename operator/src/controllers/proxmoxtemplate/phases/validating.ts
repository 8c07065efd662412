// Validating (spec.validation.boot): before a new version is promoted, its template is cloned to a VM that is started
// and watched until it comes up (the guest agent answers, or it keeps running for settleSeconds), then stopped and
// destroyed. A version that passes is kept and becomes active; one that fails is removed (the active version stays)
// and the build fails with the reason, to be retried with backoff. Each step starts one PVE task or looks at one.
import { kubeTime } from '@anvil/core/conditions';
import { requeueAfter } from '../../../runtime/result.js';
import { finishBuild } from '../build.js';
import { deleteOwnedVm } from '../cleanup.js';
import { enter, type PhaseHandler, type TemplateContext } from '../context.js';
import { failResult } from '../failure.js';
import { isOurBuild } from '../settings.js';
import { pollSoon, startTask } from '../tasks.js';
import { chooseVmid } from '../vmid.js';

type Validation = NonNullable<NonNullable<TemplateContext['status']['build']>['validation']>;

/** How often a booting validation VM is looked at. */
const BOOT_POLL_MS = 2000;

/** The saved task of a validation step: still running, or how it ended (a failure is the validation's, not the build's). */
async function taskOutcome(ctx: TemplateContext): Promise<'running' | { ok: true } | { ok: false; why: string }> {
  const task = ctx.status.currentTask!;
  const state = await ctx.api.taskStatus(task.upid!);
  if (state.status === 'running') return 'running';
  const result = await ctx.api.waitForTask(task.upid!);
  ctx.ports.taskFinished(state.type, result.ok, Math.max(0, ctx.now.getTime() / 1000 - state.starttime));
  delete ctx.status.currentTask;
  if (result.ok) return { ok: true };
  ctx.status.lastFailedTask = { upid: result.upid, type: result.type, exitStatus: result.exitStatus.slice(0, 1024), log: result.logTail.join('\n').slice(-8192), finishedAt: kubeTime(ctx.now) };
  return { ok: false, why: `PVE task ${result.type} failed: ${result.exitStatus}` };
}

const fail = (v: Validation, why: string): void => {
  v.failure = why.slice(0, 2048);
  v.step = 'cleanup';
};

export const validating: PhaseHandler = async (ctx) => {
  const { template, status } = ctx;
  const build = status.build!;
  const spec = template.spec.validation ?? {};
  const v: Validation = (build.validation ??= { step: 'clone', startedAt: kubeTime(ctx.now) });

  if (status.currentTask) {
    const outcome = await taskOutcome(ctx);
    if (outcome === 'running') return pollSoon(ctx);
    if (!outcome.ok && v.step !== 'cleanup') fail(v, outcome.why);
    else if (outcome.ok && v.step === 'clone') v.step = 'start';
    else if (outcome.ok && v.step === 'start') v.step = 'boot';
  }
  const elapsed = ctx.now.getTime() - Date.parse(v.startedAt ?? kubeTime(ctx.now));
  const timeoutMs = (spec.timeoutSeconds ?? 600) * 1000;
  if (v.step !== 'cleanup' && elapsed > timeoutMs) fail(v, `the validation boot did not finish within ${spec.timeoutSeconds ?? 600} s`);

  switch (v.step) {
    case 'clone': {
      const choice = await chooseVmid(ctx.api, template.spec.vm?.vmidRange, [build.vmid!, ...(build.takenVmids ?? [])]);
      if ('exhausted' in choice) return requeueAfter(ctx.config.taskPollMs * 10);
      v.vmid = choice.vmid;
      const upid = await ctx.api.cloneVm(build.vmid!, choice.vmid, { name: `${build.name}-validate` });
      startTask(ctx, upid, 'qmclone', `validating version ${build.version}: cloning template ${build.vmid} to VM ${choice.vmid}`);
      return pollSoon(ctx);
    }
    case 'start': {
      const upid = await ctx.api.powerAction(v.vmid!, 'start');
      startTask(ctx, upid, 'qmstart', `validating version ${build.version}: starting VM ${v.vmid}`);
      return pollSoon(ctx);
    }
    case 'boot': {
      const vm = await ctx.api.vmStatus(v.vmid!);
      if (vm.status !== 'running') {
        fail(v, `VM ${v.vmid} stopped during its validation boot (${vm.qmpstatus ?? vm.status})`);
        return validating(ctx);
      }
      v.runningSince ??= kubeTime(ctx.now);
      const up = spec.guestAgent ? await ctx.api.agentPing(v.vmid!) : ctx.now.getTime() - Date.parse(v.runningSince) >= (spec.settleSeconds ?? 30) * 1000;
      status.message = `validating version ${build.version}: VM ${v.vmid} is running${spec.guestAgent ? ', waiting for its guest agent' : `, watching it for ${spec.settleSeconds ?? 30} s`}`;
      if (!up) return requeueAfter(BOOT_POLL_MS);
      v.step = 'cleanup';
      return validating(ctx);
    }
    case 'cleanup': {
      if (v.vmid !== undefined) {
        const vm = await ctx.api.vmStatus(v.vmid).catch(() => undefined);
        if (vm?.status === 'running') {
          const upid = await ctx.api.powerAction(v.vmid, 'stop');
          startTask(ctx, upid, 'qmstop', `validation of version ${build.version}: stopping VM ${v.vmid}`);
          return pollSoon(ctx);
        }
        await deleteOwnedVm(ctx, v.vmid, (m) => isOurBuild(template, m, build.version));
      }
      if (v.failure) return reject(ctx, v.failure);
      ctx.ports.event(template, 'Normal', 'ValidationPassed', `version ${build.version} booted (VM ${v.vmid}) and was destroyed again; promoting it`);
      await finishBuild(ctx);
      return enter(ctx, 'Ready');
    }
    default:
      v.step = 'clone';
      return pollSoon(ctx);
  }
};

/** The new version failed its validation boot: its template is removed and the build fails (the active version stays). */
async function reject(ctx: TemplateContext, why: string) {
  const build = ctx.status.build!;
  ctx.ports.event(ctx.template, 'Warning', 'ValidationFailed', `version ${build.version} not promoted: ${why}`);
  await deleteOwnedVm(ctx, build.vmid!, (m) => isOurBuild(ctx.template, m, build.version));
  // The retry builds the version again from its downloaded image.
  delete build.vmid;
  delete build.validation;
  build.step = 'create';
  return failResult(ctx, 'ValidationFailed', `version ${build.version} failed its validation boot: ${why}`);
}
