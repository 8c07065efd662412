// Storages and their content: listing volumes, deleting one (an `imgdel` task) and download-url (a `download`
// task that fetches from the upstream file table, checks the checksum and stores an import/iso/vztmpl volume).
import { getStorage, now, type SimContext } from './context.js';
import { fail500, paramError } from './errors.js';
import type { Route } from './router.js';
import { HASH_ALGORITHMS, hashOf, type SimStorage } from './state.js';

export interface StorageSpec {
  id: string;
  type: SimStorage['type'];
  content: string[];
  path?: string;
}

export function addStorage(ctx: SimContext, storage: StorageSpec): void {
  ctx.storages.set(storage.id, { ...storage, content: new Set(storage.content), volumes: new Map() });
}

export function storageRoutes(ctx: SimContext): Route[] {
  return [
    { method: 'GET', template: '/nodes/{node}/storage/{storage}/content', handle: (p) => ({ data: listContent(ctx, p.storage!, p.content, p.vmid) }) },
    { method: 'POST', template: '/nodes/{node}/storage/{storage}/download-url', handle: (p, tokenId) => ({ data: downloadUrl(ctx, p, tokenId) }) },
    {
      method: 'DELETE',
      template: '/nodes/{node}/storage/{storage}/content/{volume}',
      handle: (p, tokenId) => ({ data: deleteVolume(ctx, p.storage!, p.volume!, tokenId) }),
      unchecked: {
        // The volume id holds a '/' (local:import/x.qcow2): the client encodes it, the path is decoded before routing.
        regex: /^\/nodes\/([^/]+)\/storage\/([^/]+)\/content\/(.+)$/,
        info: {
          name: 'delete',
          method: 'DELETE',
          permissions: { check: ['perm', '/storage/{storage}', ['Datastore.Allocate']] },
          parameters: {
            additionalProperties: 0,
            properties: {
              node: { type: 'string', format: 'pve-node' },
              storage: { type: 'string', format: 'pve-storage-id', optional: 1 },
              volume: { type: 'string' },
              delay: { type: 'integer', minimum: 1, maximum: 30, optional: 1 },
            },
          },
        },
      },
    },
  ];
}

function listContent(ctx: SimContext, storageId: string, content: string | undefined, vmid: string | undefined): unknown[] {
  const storage = getStorage(ctx, storageId);
  return [...storage.volumes.values()]
    .filter((v) => (content === undefined || v.content === content) && (vmid === undefined || v.vmid === Number(vmid)))
    .map((v) => ({ volid: v.volid, format: v.format, size: v.size, content: v.content, ctime: v.ctime, ...(v.vmid !== undefined ? { vmid: v.vmid } : {}) }));
}

/** PVE::API2::Storage::Content delete: an `imgdel` worker; a volume that belongs to a VM is refused. */
function deleteVolume(ctx: SimContext, storeId: string, volume: string, tokenId: string): string {
  const volid = volume.includes(':') ? volume : `${storeId}:${volume}`;
  const storage = getStorage(ctx, volid.split(':')[0]!);
  const vol = storage.volumes.get(volid);
  if (!vol) throw fail500(`volume '${volid}' does not exist`);
  if (vol.vmid !== undefined && ctx.vms.has(vol.vmid)) throw fail500(`unable to delete '${volid}' - volume is in use by VM ${vol.vmid}`);
  // PVE forks this worker without an id (fork_worker('imgdel', undef, ...)): the UPID's id field is empty.
  return ctx.tasks.start('imgdel', '', tokenId, () => {
    storage.volumes.delete(volid);
  });
}

function downloadUrl(ctx: SimContext, p: Record<string, string>, tokenId: string): string {
  const storage = getStorage(ctx, p.storage!);
  if (!storage.path) throw fail500(`can't upload to storage type '${storage.type}', not a file based storage!`);
  if (!storage.content.has(p.content!)) throw fail500(`storage '${storage.id}' is not configured for content-type '${p.content}'`);
  const filename = p.filename!;
  if (p.content === 'import' && !/^[^/\\\s]+\.(ova|qcow2|raw|vmdk)$/.test(filename)) throw paramError({ filename: 'invalid filename or wrong extension' });
  if (p.content === 'iso' && !/^[^/\\\s]+\.(iso|img)$/i.test(filename)) throw paramError({ filename: 'wrong file extension' });
  const dir = { import: 'import', iso: 'template/iso', vztmpl: 'template/cache' }[p.content as 'import' | 'iso' | 'vztmpl'];
  const dest = `${storage.path}/${dir}/${filename}`;
  const volid = `${storage.id}:${p.content === 'import' ? 'import' : p.content}/${filename}`;
  return ctx.tasks.start('download', filename, tokenId, async (log, wait) => {
    log(`downloading ${p.url} to ${dest}`);
    if (storage.volumes.has(volid)) throw new Error(`refusing to override existing file '${dest}'`);
    const file = ctx.upstream.get(p.url!);
    await wait();
    if (!file) {
      log(`--${new Date().toISOString().slice(0, 19).replace('T', ' ')}--  ${p.url}`);
      log('ERROR 404: Not Found.');
      throw new Error(`download failed: command '/usr/bin/wget -q --show-progress -O ${dest}.tmp_dwnl.${process.pid} ${p.url}' failed: exit code 8`);
    }
    log(`download of '${p.url}' to '${dest}' finished`);
    if (p.checksum) {
      const algorithm = p['checksum-algorithm']!;
      if (!(HASH_ALGORITHMS as readonly string[]).includes(algorithm)) throw new Error(`unknown checksum algorithm '${algorithm}'`);
      const got = hashOf(file.data, algorithm);
      log('calculating checksum...');
      if (got !== p.checksum.toLowerCase()) throw new Error(`checksum mismatch: got '${got}' != expect '${p.checksum}'`);
      log('OK, checksum verified');
    }
    const format = filename.split('.').pop()!;
    storage.volumes.set(volid, { volid, storage: storage.id, content: p.content!, format, size: p.content === 'import' ? file.virtualSize : file.data.length, ctime: now() });
  });
}
