// Converting: the root disk is grown to spec.vm.diskSize (when set), then the VM becomes a template and the build a
// kept version (after its validation boot, when spec.validation.boot asks for one). A VM that vanished mid-build is
// created again.
import { ROOT_DISK } from '../../../proxmox/vm-params.js';
import { finishBuild } from '../build.js';
import { enter, type PhaseHandler } from '../context.js';
import { isOurBuild, parseOwnerMarker } from '../settings.js';
import { notOk, pollSoon, pollTask, startTask } from '../tasks.js';

export const converting: PhaseHandler = async (ctx) => {
  const { template, status } = ctx;
  const build = status.build!;
  if (status.currentTask) {
    const outcome = await pollTask(ctx);
    if (outcome !== 'ok') return notOk(ctx, outcome);
    if (build.step === 'resize') build.step = 'template';
  }
  const config = await ctx.api.getVmConfig(build.vmid!);
  if (!config || !isOurBuild(template, parseOwnerMarker(config), build.version)) {
    // Someone removed (or replaced) the VM mid-build: create it again.
    ctx.ports.event(template, 'Warning', 'VMLost', `VM ${build.vmid} disappeared during the build; creating it again`);
    delete build.vmid;
    build.step = 'create';
    return enter(ctx, 'Creating');
  }
  if (Number(config.template) === 1) {
    // With spec.validation.boot the version is promoted only after it booted.
    if (template.spec.validation?.boot) {
      build.step = 'validate';
      return enter(ctx, 'Validating');
    }
    await finishBuild(ctx);
    return enter(ctx, 'Ready');
  }
  if (build.step === 'resize' && template.spec.vm?.diskSize) {
    const upid = await ctx.api.resizeDisk(build.vmid!, ROOT_DISK, template.spec.vm.diskSize);
    startTask(ctx, upid, 'resize', `growing ${ROOT_DISK} of VM ${build.vmid} to ${template.spec.vm.diskSize}`);
    return pollSoon(ctx);
  }
  build.step = 'template';
  const upid = await ctx.api.convertToTemplate(build.vmid!);
  startTask(ctx, upid, 'qmtemplate', `converting VM ${build.vmid} to a template`);
  return pollSoon(ctx);
};
