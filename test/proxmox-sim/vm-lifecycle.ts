// A VM's life after create: conversion to a template (disks renamed base-...), full and linked clones, destroy.
import { randomUUID } from 'node:crypto';
import { now, type SimContext } from './context.js';
import { fail500 } from './errors.js';
import type { Route } from './router.js';
import { DRIVE_KEY, type SimVm } from './state.js';
import { cleanupFailedCreate, reserveVm } from './vm-create.js';
import { nextDiskIndex } from './vm-disks.js';
import { vmOf } from './vms.js';

export function vmLifecycleRoutes(ctx: SimContext): Route[] {
  return [
    { method: 'POST', template: '/nodes/{node}/qemu/{vmid}/template', handle: (p, tokenId) => ({ data: template(ctx, vmOf(ctx, p), tokenId) }) },
    { method: 'POST', template: '/nodes/{node}/qemu/{vmid}/clone', handle: (p, tokenId) => ({ data: clone(ctx, vmOf(ctx, p), p, tokenId) }) },
    {
      method: 'DELETE',
      template: '/nodes/{node}/qemu/{vmid}',
      handle: (p, tokenId) => ({ data: destroy(ctx, vmOf(ctx, p), p, tokenId) }),
      unchecked: {
        regex: /^\/nodes\/([^/]+)\/qemu\/([^/]+)$/,
        info: {
          name: 'destroy_vm',
          method: 'DELETE',
          permissions: { check: ['perm', '/vms/{vmid}', ['VM.Allocate']] },
          parameters: {
            additionalProperties: 0,
            properties: {
              node: { type: 'string', format: 'pve-node' },
              vmid: { type: 'integer', format: 'pve-vmid', minimum: 100, maximum: 999999999 },
              skiplock: { type: 'boolean', optional: 1 },
              purge: { type: 'boolean', optional: 1 },
              'destroy-unreferenced-disks': { type: 'boolean', optional: 1, default: 0 },
            },
          },
        },
      },
    },
  ];
}

/** The volume id a drive option's value names (its part before the first comma). */
const volidOf = (value: string | number) => String(value).split(',')[0]!;

function template(ctx: SimContext, vm: SimVm, tokenId: string): string {
  if (vm.config.template) throw fail500("you can't convert a template to a template");
  if (vm.status === 'running') throw fail500("you can't convert a VM to template if VM is running");
  return ctx.tasks.start('qmtemplate', String(vm.vmid), tokenId, async (log, wait) => {
    await wait();
    for (const [key, value] of Object.entries(vm.config)) {
      if (!DRIVE_KEY.test(key) || String(value).includes('media=cdrom')) continue;
      const volid = volidOf(value);
      const [storeId, name] = volid.split(':') as [string, string];
      const storage = ctx.storages.get(storeId);
      const vol = storage?.volumes.get(volid);
      if (!storage || !vol || !name.startsWith('vm-')) continue;
      const base = name.replace(/^vm-/, 'base-');
      storage.volumes.delete(volid);
      storage.volumes.set(`${storeId}:${base}`, { ...vol, volid: `${storeId}:${base}` });
      vm.config[key] = String(value).replace(volid, `${storeId}:${base}`);
      log(`  Renamed "${name}" to "${base}" in volume group "pve"`);
      log(`  Logical volume pve/${base} changed.`);
    }
    vm.config.template = 1;
  }, { lockVmid: vm.vmid });
}

function clone(ctx: SimContext, source: SimVm, p: Record<string, string>, tokenId: string): string {
  const newid = Number(p.newid);
  if (ctx.vms.has(newid)) throw fail500(`unable to create VM ${newid}: config file already exists`);
  const full = p.full === '1' || !source.config.template;
  return ctx.tasks.start('qmclone', String(source.vmid), tokenId, async (log, wait) => {
    const vm = reserveVm(ctx, newid, 'clone');
    await wait();
    const config: Record<string, string | number> = {};
    for (const [key, value] of Object.entries(source.config)) {
      if (key === 'template' || key === 'lock') continue;
      if (!DRIVE_KEY.test(key)) {
        config[key] = value;
        continue;
      }
      const volid = volidOf(value);
      const [storeId, name] = volid.split(':') as [string, string];
      const storage = ctx.storages.get(p.storage ?? storeId) ?? ctx.storages.get(storeId);
      const vol = ctx.storages.get(storeId)?.volumes.get(volid);
      if (!storage || !vol) {
        config[key] = value;
        continue;
      }
      const newName = name.endsWith('-cloudinit') ? `vm-${newid}-cloudinit` : `vm-${newid}-disk-${nextDiskIndex(storage, newid)}`;
      const newVolid = full ? `${storage.id}:${newName}` : `${storeId}:${name}/${newName}`;
      storage.volumes.set(newVolid, { ...vol, volid: newVolid, storage: storage.id, vmid: newid, ctime: now() });
      config[key] = String(value).replace(volid, newVolid);
      log(`${full ? 'create full clone of' : 'create linked clone of'} drive ${key} (${volid})`);
    }
    if (p.name) config.name = p.name;
    if (p.description) config.description = p.description;
    config.smbios1 = `uuid=${randomUUID()}`;
    config.vmgenid = randomUUID();
    vm.config = config;
  }, { lockVmid: source.vmid, onFailure: () => cleanupFailedCreate(ctx, newid) });
}

function destroy(ctx: SimContext, vm: SimVm, p: Record<string, string>, tokenId: string): string {
  const vmid = vm.vmid;
  if (vm.status === 'running') throw fail500(`VM ${vmid} is running - destroy failed`);
  if (vm.config.protection) throw fail500(`can't remove VM ${vmid} - protection mode enabled`);
  if (vm.config.lock !== undefined && p.skiplock !== '1') throw fail500(`VM ${vmid} is locked (${vm.config.lock})`);
  return ctx.tasks.start('qmdestroy', String(vmid), tokenId, async (log, wait) => {
    await wait();
    const referenced = new Set(Object.entries(vm.config).filter(([k]) => DRIVE_KEY.test(k) || /^unused\d+$/.test(k)).map(([, v]) => volidOf(v)));
    for (const s of ctx.storages.values()) {
      for (const [volid, v] of s.volumes) {
        if (v.vmid !== vmid) continue;
        if (referenced.has(volid) || p['destroy-unreferenced-disks'] === '1') {
          s.volumes.delete(volid);
          log(`  Logical volume "${volid.split(':')[1]}" successfully removed.`);
        }
      }
    }
    ctx.vms.delete(vmid);
    if (p.purge === '1') log(`purging VM ${vmid} from related configurations..`);
  }, { lockVmid: vmid });
}
