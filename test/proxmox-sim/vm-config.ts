// VM configuration: read (typed as PVE returns it, with its digest), set synchronously under the VM lock (PUT) or
// in a `qmconfig` task (POST). Drive options allocate their volumes as on create.
import { typedOption, type SimContext } from './context.js';
import { fail500 } from './errors.js';
import type { Route } from './router.js';
import { configDigest, DRIVE_KEY } from './state.js';
import { planDrives } from './vm-disks.js';
import { vmOf } from './vms.js';

/** Config parameters that are instructions for the call, not VM options. */
const NOT_CONFIG = ['node', 'vmid', 'delete', 'digest', 'skiplock', 'revert', 'force', 'background_delay'];

export function vmConfigRoutes(ctx: SimContext): Route[] {
  const template = '/nodes/{node}/qemu/{vmid}/config';
  return [
    {
      method: 'GET',
      template,
      handle: (p) => {
        const config = vmOf(ctx, p).config;
        return { data: { ...config, digest: configDigest(config) } };
      },
    },
    { method: 'POST', template, handle: (p, tokenId) => ({ data: updateConfigAsync(ctx, p, tokenId) }) },
    {
      method: 'PUT',
      template,
      handle: async (p, tokenId) => {
        await ctx.tasks.locks.with(Number(p.vmid), () => applyConfig(ctx, p, tokenId));
        return { data: null };
      },
    },
  ];
}

function applyConfig(ctx: SimContext, p: Record<string, string>, tokenId: string): void {
  const vm = vmOf(ctx, p);
  const vmid = vm.vmid;
  if (vm.config.lock !== undefined && p.skiplock !== '1') throw fail500(`VM ${vmid} is locked (${vm.config.lock})`);
  if (p.digest && p.digest !== configDigest(vm.config)) throw fail500('detected modified configuration - file changed by other user? Try again.');
  const plan = planDrives(ctx, vmid, p, tokenId, ctx.schema.match('PUT', `/nodes/${ctx.node}/qemu/${vmid}/config`)!.info!.parameters);
  for (const key of (p.delete ?? '').split(/[,;\s]+/).filter(Boolean)) delete vm.config[key];
  for (const [k, v] of Object.entries(p)) {
    if (NOT_CONFIG.includes(k) || DRIVE_KEY.test(k)) continue;
    vm.config[k] = k === 'cipassword' ? '**********' : typedOption(ctx, k, v);
  }
  for (const step of plan) vm.config[step.key] = step.run(() => undefined);
}

function updateConfigAsync(ctx: SimContext, p: Record<string, string>, tokenId: string): string {
  const vmid = vmOf(ctx, p).vmid;
  return ctx.tasks.start('qmconfig', String(vmid), tokenId, async (_log, wait) => {
    await wait();
    applyConfig(ctx, { ...p, skiplock: '1' }, tokenId);
  }, { lockVmid: vmid });
}
