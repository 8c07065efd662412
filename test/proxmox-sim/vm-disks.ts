// VM disks: the drive options of create and config (checked synchronously as PVE does before forking, allocated
// by the task: new disks, imports with import-from, the cloud-init drive) and resize.
import { getStorage, now, type SimContext } from './context.js';
import { fail500, forbidden, paramError } from './errors.js';
import type { Route } from './router.js';
import type { PveParameters } from './schema.js';
import { DRIVE_KEY, formatSize, GiB, parseSize, type SimStorage, type SimVolume } from './state.js';
import { parsePropertyString, propertyFor } from './validate.js';
import { vmOf } from './vms.js';

/** One drive option to set: run() allocates its volume (in the task) and returns the option's value. */
export interface DriveStep {
  key: string;
  run: (log: (line: string) => void) => string;
}

export function diskRoutes(ctx: SimContext): Route[] {
  return [{ method: 'PUT', template: '/nodes/{node}/qemu/{vmid}/resize', handle: (p, tokenId) => ({ data: resize(ctx, p, tokenId) }) }];
}

/** The first free vm-<vmid>-disk-<n> on a storage. */
export function nextDiskIndex(storage: SimStorage, vmid: number): number {
  let n = 0;
  const names = new Set([...storage.volumes.keys()].map((v) => v.split(':')[1]!.split('/').pop()!));
  while (names.has(`vm-${vmid}-disk-${n}`) || names.has(`base-${vmid}-disk-${n}`)) n++;
  return n;
}

/** A size as qemu-img and LVM print it (2.20 GiB). */
export function human(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 1 : 2)} ${units[i]}`;
}

/** Checks disk parameters synchronously (as PVE does before forking) and returns the allocation plan. */
export function planDrives(ctx: SimContext, vmid: number, p: Record<string, string>, tokenId: string, parameters: PveParameters): DriveStep[] {
  const plan: DriveStep[] = [];
  const props = parameters.properties ?? {};
  for (const [key, value] of Object.entries(p)) {
    if (!DRIVE_KEY.test(key)) continue;
    const format = propertyFor(props, key)?.format;
    if (typeof format !== 'object') continue;
    const drive = parsePropertyString(format, value);
    const file = drive.file ?? '';
    const rest = value.split(',').filter((part) => part.includes('=') && !part.startsWith('file=') && !part.startsWith('import-from=') && !part.startsWith('size='));
    const vol = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i.exec(file);
    if (!vol || file === 'none' || file === 'cdrom' || file.startsWith('/')) {
      plan.push({ key, run: () => value });
      continue;
    }
    const [, storeId, volname] = vol as unknown as [string, string, string];
    const storage = getStorage(ctx, storeId);
    if (volname === 'cloudinit') plan.push(cloudinitDrive(ctx, { key, vmid, storage, rest, tokenId }));
    else if (/^\d+(\.\d+)?$/.test(volname)) plan.push(newDisk(ctx, { key, vmid, storage, rest, tokenId }, drive, Number(volname)));
    else {
      if (!storage.volumes.has(file)) throw fail500(`volume '${file}' does not exist`);
      plan.push({ key, run: () => value });
    }
  }
  return plan;
}

interface DriveRequest {
  key: string;
  vmid: number;
  storage: SimStorage;
  /** The drive's other options (without file, import-from and size). */
  rest: string[];
  tokenId: string;
}

function requireImagesStorage(ctx: SimContext, storage: SimStorage, tokenId: string): void {
  ctx.access.requirePriv(tokenId, `/storage/${storage.id}`, 'Datastore.AllocateSpace');
  if (!storage.content.has('images')) throw fail500(`storage '${storage.id}' does not support content-type 'images'`);
}

function cloudinitDrive(ctx: SimContext, { key, vmid, storage, rest, tokenId }: DriveRequest): DriveStep {
  requireImagesStorage(ctx, storage, tokenId);
  return {
    key,
    run: (log) => {
      const volid = `${storage.id}:vm-${vmid}-cloudinit`;
      storage.volumes.set(volid, { volid, storage: storage.id, content: 'images', format: 'raw', size: 4 * 1024 * 1024, vmid, ctime: now() });
      log(`  Logical volume "vm-${vmid}-cloudinit" created.`);
      log(`${key}: successfully created disk '${volid},media=cdrom'`);
      return [`${volid}`, 'media=cdrom', ...rest.filter((r) => !r.startsWith('media='))].join(',');
    },
  };
}

/** `<storage>:<GiB>` allocates a disk; `<storage>:0,import-from=<volume>` imports one. */
function newDisk(ctx: SimContext, { key, vmid, storage, rest, tokenId }: DriveRequest, drive: Record<string, string>, sizeGiB: number): DriveStep {
  const importFrom = drive['import-from'];
  if (importFrom !== undefined && sizeGiB !== 0) {
    throw paramError({ [key]: "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>" });
  }
  requireImagesStorage(ctx, storage, tokenId);
  // PVE sizes EFI vars and TPM state disks itself, whatever size the request names.
  let size = key === 'efidisk0' ? (drive.efitype === '4m' ? 4 * 1024 * 1024 : 128 * 1024) : key === 'tpmstate0' ? 4 * 1024 * 1024 : sizeGiB * GiB;
  let source: SimVolume | undefined;
  if (importFrom !== undefined) {
    if (importFrom.startsWith('/')) throw forbidden('Permission check failed (only root can pass arbitrary filesystem paths)');
    const src = /^([^:]+):/.exec(importFrom)?.[1] ?? '';
    const srcStorage = getStorage(ctx, src);
    ctx.access.requirePriv(tokenId, `/storage/${src}`, 'Datastore.Audit');
    source = srcStorage.volumes.get(importFrom);
    if (!source) throw fail500(`volume '${importFrom}' does not exist`);
    size = source.size;
  } else if (sizeGiB === 0) {
    throw paramError({ [key]: 'disk size 0 requires import-from (simulator message)' });
  }
  return {
    key,
    run: (log) => {
      const n = nextDiskIndex(storage, vmid);
      const volid = `${storage.id}:vm-${vmid}-disk-${n}`;
      storage.volumes.set(volid, { volid, storage: storage.id, content: 'images', format: 'raw', size, vmid, ctime: now() });
      if (source) {
        log(`importing disk '${source.volid}' to VM ${vmid} ...`);
        log(`  Logical volume "vm-${vmid}-disk-${n}" created.`);
        log(`transferred 0.0 B of ${human(size)} (0.00%)`);
        log(`transferred ${human(size)} of ${human(size)} (100.00%)`);
      }
      const entry = [volid, ...rest, `size=${formatSize(size)}`].join(',');
      log(`${key}: successfully created disk '${entry}'`);
      return entry;
    },
  };
}

function resize(ctx: SimContext, p: Record<string, string>, tokenId: string): string {
  const vmid = Number(p.vmid);
  const disk = p.disk!;
  const size = p.size!;
  vmOf(ctx, p);
  return ctx.tasks.start('resize', String(vmid), tokenId, async (log, wait) => {
    const vm = vmOf(ctx, p);
    const value = vm.config[disk];
    if (value === undefined) throw new Error(`disk '${disk}' does not exist`);
    if (String(value).includes('media=cdrom')) throw new Error("you can't resize a cdrom");
    const current = parseSize(/(?:^|,)size=([^,]+)/.exec(String(value))?.[1] ?? '0') ?? 0;
    const relative = size.startsWith('+');
    const amount = parseSize(size.replace(/^\+/, ''));
    if (amount === undefined) throw new Error(`invalid size '${size}'`);
    const target = relative ? current + amount : amount;
    if (target < current) throw new Error('shrinking disks is not supported');
    await wait();
    const volid = String(value).split(',')[0]!;
    const vol = ctx.storages.get(volid.split(':')[0]!)?.volumes.get(volid);
    if (vol) vol.size = target;
    vm.config[disk] = String(value).replace(/(^|,)size=[^,]+/, `$1size=${formatSize(target)}`);
    log(`  Size of logical volume pve/${volid.split(':')[1]} changed from ${human(current)} to ${human(target)}.`);
    log(`  Logical volume pve/${volid.split(':')[1]} successfully resized.`);
  }, { lockVmid: vmid });
}
