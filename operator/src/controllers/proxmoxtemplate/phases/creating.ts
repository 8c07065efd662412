// Creating: a VMID is chosen and committed, then PVE creates the VM with the imported disk and our owner marker in
// its description. The marker tells our VM (a create whose UPID a restart lost) from someone else's on the same VMID.
import { ProxmoxError } from '../../../proxmox/errors.js';
import { templateCreateParams } from '../../../proxmox/vm-params.js';
import { commitThenContinue } from '../../../runtime/result.js';
import { enter, NEXT, type PhaseHandler, type TemplateContext } from '../context.js';
import { failResult } from '../failure.js';
import { buildVmOptions, isOurBuild, parseOwnerMarker } from '../settings.js';
import { notOk, pollSoon, pollTask, startTask } from '../tasks.js';
import { chooseVmid } from '../vmid.js';

export const creating: PhaseHandler = async (ctx) => {
  const { template, status } = ctx;
  const build = status.build!;
  let existed = false;
  if (status.currentTask) {
    const outcome = await pollTask(ctx);
    // Someone else's VM, or ours from a create whose UPID a restart lost: the marker below tells.
    if (outcome === 'already-exists') existed = true;
    else if (outcome !== 'ok') return notOk(ctx, outcome);
  }
  if (build.vmid === undefined) {
    const choice = await chooseVmid(ctx.api, template.spec.vm?.vmidRange, build.takenVmids ?? []);
    if ('exhausted' in choice) return failResult(ctx, 'NoFreeVMID', choice.exhausted);
    build.vmid = choice.vmid;
    return commitThenContinue();
  }
  const config = await ctx.api.getVmConfig(build.vmid);
  if (!config && existed) return vmidTaken(ctx, build.vmid);
  if (config) {
    if (!isOurBuild(template, parseOwnerMarker(config), build.version)) {
      // A create still running has no description yet: ours (task UPID lost in a restart) or someone else's.
      if (config.lock === 'create') return pollSoon(ctx);
      return vmidTaken(ctx, build.vmid);
    }
    if (config.lock === 'create') return pollSoon(ctx);
    ctx.ports.event(template, 'Normal', 'Created', `VM ${build.vmid} (${build.name}) created with the imported disk`);
    build.step = template.spec.vm?.diskSize ? 'resize' : 'template';
    return enter(ctx, 'Converting');
  }
  const password = await ctx.ports.cloudInitPassword(template);
  let upid: string;
  try {
    upid = await ctx.api.createVm(templateCreateParams(buildVmOptions(template, build, password)));
  } catch (err) {
    // Created between our look and our call: the next pass reads its marker.
    if (err instanceof ProxmoxError && err.code === 'already-exists') return pollSoon(ctx);
    throw err;
  }
  startTask(ctx, upid, 'qmcreate', `creating VM ${build.vmid} (${build.name}) from ${build.importVolume}`);
  return pollSoon(ctx);
};

/** The chosen VMID belongs to someone else: remember it (so it is not chosen again) and choose another at once. */
function vmidTaken(ctx: TemplateContext, vmid: number): typeof NEXT {
  const build = ctx.status.build!;
  build.takenVmids = [...new Set([...(build.takenVmids ?? []), vmid])].slice(-64);
  delete build.vmid;
  ctx.ports.event(ctx.template, 'Normal', 'VMIDTaken', `VMID ${vmid} was taken by someone else; choosing another`);
  return NEXT;
}
