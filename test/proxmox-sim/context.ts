// What the resource modules share: the node's state (storages, VMs, upstream files, bridges), the schema, access
// control and the task runner, with the lookups that answer PVE's "does not exist" errors.
import type { Access } from './access.js';
import { fail500 } from './errors.js';
import type { PveSchema } from './schema.js';
import type { SimStorage, SimVm, UpstreamFile } from './state.js';
import type { TaskRunner } from './task-runner.js';
import { propertyFor } from './validate.js';

export interface SimContext {
  readonly node: string;
  readonly schema: PveSchema;
  readonly storages: Map<string, SimStorage>;
  readonly vms: Map<number, SimVm>;
  readonly upstream: Map<string, UpstreamFile>;
  readonly bridges: Set<string>;
  readonly access: Access;
  readonly tasks: TaskRunner;
}

export function getVm(ctx: SimContext, vmid: number): SimVm {
  const vm = ctx.vms.get(vmid);
  if (!vm) throw fail500(`Configuration file 'nodes/${ctx.node}/qemu-server/${vmid}.conf' does not exist`);
  return vm;
}

export function getStorage(ctx: SimContext, id: string): SimStorage {
  const s = ctx.storages.get(id);
  if (!s) throw fail500(`storage '${id}' does not exist`);
  return s;
}

/** Seconds since the epoch (ctime, starttime). */
export function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** The typed value PVE returns for a VM option: numbers for integer/number/boolean options. */
export function typedOption(ctx: SimContext, key: string, value: string): string | number {
  const prop = propertyFor(ctx.schema.match('POST', '/nodes/x/qemu')!.info!.parameters.properties ?? {}, key);
  return prop && ['integer', 'number', 'boolean'].includes(String(prop.type)) ? Number(value) : value;
}
