// The VM registry: listing VMs (filtered by VM.Audit), the next free VMID, VMs created by someone else, and the
// figures PVE reports for a VM (CPUs, memory, root disk size, uptime).
import { getVm, type SimContext } from './context.js';
import { fail500, paramError } from './errors.js';
import type { Route } from './router.js';
import { DRIVE_KEY, parseSize, type SimVm } from './state.js';

export function vmRegistryRoutes(ctx: SimContext): Route[] {
  return [
    { method: 'GET', template: '/cluster/nextid', handle: (p) => ({ data: nextId(ctx, p.vmid) }) },
    { method: 'GET', template: '/nodes/{node}/qemu', handle: (_p, tokenId) => ({ data: listVms(ctx, tokenId) }) },
  ];
}

/** A VM created by someone else (another tool, a person), e.g. to take a VMID. */
export function createForeignVm(ctx: SimContext, vmid: number, config: Record<string, string | number> = {}): void {
  ctx.vms.set(vmid, { vmid, config: { name: `foreign-${vmid}`, memory: '512', ...config }, status: 'stopped', qmpstatus: 'stopped' });
}

/** The VM by the request's vmid parameter. */
export function vmOf(ctx: SimContext, p: Record<string, string>): SimVm {
  return getVm(ctx, Number(p.vmid));
}

/** cpus, maxmem, maxdisk and uptime, as both the VM list and status/current report them. */
export function usage(vm: SimVm): { cpus: number; maxmem: number; maxdisk: number; uptime: number } {
  return {
    cpus: Number(vm.config.cores ?? 1) * Number(vm.config.sockets ?? 1),
    maxmem: memoryMiB(vm) * 1024 * 1024,
    maxdisk: rootDiskSize(vm),
    uptime: vm.startedAt ? Math.floor((Date.now() - vm.startedAt) / 1000) : 0,
  };
}

function nextId(ctx: SimContext, requested: string | undefined): string {
  if (requested !== undefined) {
    if (ctx.vms.has(Number(requested))) throw paramError({ vmid: `VM ${requested} already exists` });
    return requested;
  }
  for (let i = 100; i < 1_000_000; i++) if (!ctx.vms.has(i)) return String(i);
  throw fail500('unable to get any free VMID');
}

function listVms(ctx: SimContext, tokenId: string): unknown[] {
  return [...ctx.vms.values()]
    .filter((vm) => ctx.access.hasPriv(tokenId, `/vms/${vm.vmid}`, 'VM.Audit'))
    .map((vm) => ({
      vmid: vm.vmid,
      name: vm.config.name,
      status: vm.status,
      ...(vm.config.template ? { template: 1 } : {}),
      ...(vm.config.tags !== undefined ? { tags: vm.config.tags } : {}),
      ...(vm.config.lock !== undefined ? { lock: vm.config.lock } : {}),
      ...usage(vm),
    }));
}

function memoryMiB(vm: SimVm): number {
  const m = /(?:^|current=)(\d+)/.exec(String(vm.config.memory ?? '512'));
  return m ? Number(m[1]) : 512;
}

function rootDiskSize(vm: SimVm): number {
  const key = Object.keys(vm.config).find((k) => DRIVE_KEY.test(k) && !String(vm.config[k]).includes('media=cdrom'));
  const size = key ? /(?:^|,)size=([^,]+)/.exec(String(vm.config[key]))?.[1] : undefined;
  return size ? parseSize(size) ?? 0 : 0;
}
