// VM creation (a `qmcreate` task): the VMID is checked before the task and again under its lock, so two creates
// race as on PVE; a test can make another client take the VMID in between. A failed create removes what it made.
import { randomUUID } from 'node:crypto';
import { now, typedOption, type SimContext } from './context.js';
import { fail500 } from './errors.js';
import type { Route } from './router.js';
import type { SimVm } from './state.js';
import { planDrives } from './vm-disks.js';
import { createForeignVm } from './vms.js';

/** Create parameters that are instructions for the call, not VM options. */
const NOT_CONFIG = ['node', 'vmid', 'start', 'storage', 'import-working-storage', 'pool', 'force', 'unique', 'archive', 'bwlimit', 'live-restore', 'ha-managed'];

/** `races`: VMIDs whose next create loses the race to another client (raceCreate). */
export function vmCreateRoutes(ctx: SimContext, races: Set<number>): Route[] {
  return [{ method: 'POST', template: '/nodes/{node}/qemu', handle: (p, tokenId) => ({ data: createVm(ctx, races, p, tokenId) }) }];
}

/** Registers a VM under a `lock` while its create/clone task runs; fails when the VMID was taken meanwhile. */
export function reserveVm(ctx: SimContext, vmid: number, lock: 'create' | 'clone'): SimVm {
  if (ctx.vms.has(vmid)) throw new Error(`VM ${vmid} already exists on node '${ctx.node}'`);
  const vm: SimVm = { vmid, config: { lock }, status: 'stopped', qmpstatus: 'stopped' };
  ctx.vms.set(vmid, vm);
  return vm;
}

/** After a failed create or clone: removes the VM and its volumes, unless the VM is someone else's (a race). */
export function cleanupFailedCreate(ctx: SimContext, vmid: number): void {
  const vm = ctx.vms.get(vmid);
  if (!vm || vm.config.lock !== 'create') return;
  for (const s of ctx.storages.values()) for (const [volid, v] of s.volumes) if (v.vmid === vmid) s.volumes.delete(volid);
  ctx.vms.delete(vmid);
}

function createVm(ctx: SimContext, races: Set<number>, p: Record<string, string>, tokenId: string): string {
  const vmid = Number(p.vmid);
  ctx.access.requirePriv(tokenId, `/vms/${vmid}`, 'VM.Allocate');
  if (ctx.vms.has(vmid)) throw fail500(`unable to create VM ${vmid}: config file already exists`);
  for (const [key, value] of Object.entries(p)) {
    if (!/^net\d+$/.test(key)) continue;
    const bridge = /(?:^|,)bridge=([^,]+)/.exec(value)?.[1];
    if (bridge) ctx.access.requirePriv(tokenId, `/sdn/zones/localnetwork/${bridge}`, 'SDN.Use');
  }
  const plan = planDrives(ctx, vmid, p, tokenId, ctx.schema.match('POST', `/nodes/${ctx.node}/qemu`)!.info!.parameters);
  const race = races.delete(vmid);
  return ctx.tasks.start(
    'qmcreate',
    String(vmid),
    tokenId,
    async (log, wait) => {
      if (race) createForeignVm(ctx, vmid);
      const vm = reserveVm(ctx, vmid, 'create');
      await wait();
      const config: Record<string, string | number> = {};
      for (const [k, v] of Object.entries(p)) if (!NOT_CONFIG.includes(k)) config[k] = typedOption(ctx, k, v);
      for (const step of plan) config[step.key] = step.run(log);
      if (config.cipassword !== undefined) config.cipassword = '**********';
      config.smbios1 ??= `uuid=${randomUUID()}`;
      config.vmgenid ??= randomUUID();
      config.meta = `creation-qemu=9.2.0,ctime=${now()}`;
      vm.config = config;
    },
    { lockVmid: vmid, onFailure: () => cleanupFailedCreate(ctx, vmid) },
  );
}
