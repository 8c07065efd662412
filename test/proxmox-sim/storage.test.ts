import { describe, expect, it } from '@jest/globals';
import { pveReferenceAvailable } from './schema.js';
import { hashOf } from './state.js';
import { addStorage } from './storage.js';
import { testSim } from './testing.js';

const maybe = pveReferenceAvailable() ? describe : describe.skip;
const URL = 'https://images.example/noble.qcow2';

maybe('storage: content, download-url and volume deletion', () => {
  it('downloads an upstream file with its checksum into an import volume and lists it', async () => {
    const sim = testSim();
    sim.ctx.upstream.set(URL, { url: URL, data: Buffer.from('image'), virtualSize: 3 * 1024 ** 3, contentType: 'application/octet-stream' });
    const params = { content: 'import', filename: 'noble.qcow2', url: URL, checksum: hashOf('image', 'sha256'), 'checksum-algorithm': 'sha256' };
    const task = await sim.run('POST', '/nodes/pve/storage/local/download-url', params);
    expect(task).toMatchObject({ type: 'download', id: 'noble.qcow2', exitstatus: 'OK' });
    expect(task.log).toContain('OK, checksum verified');
    const listed = await sim.call('GET', '/nodes/pve/storage/local/content', { content: 'import' });
    expect(listed.data).toEqual([{ volid: 'local:import/noble.qcow2', format: 'qcow2', size: 3 * 1024 ** 3, content: 'import', ctime: expect.any(Number) }]);

    const again = await sim.run('POST', '/nodes/pve/storage/local/download-url', params);
    expect(again.exitstatus).toBe("refusing to override existing file '/var/lib/vz/import/noble.qcow2'");
  });

  it('fails a download on a checksum mismatch or a missing upstream file, and refuses wrong names and storages', async () => {
    const sim = testSim();
    sim.ctx.upstream.set(URL, { url: URL, data: Buffer.from('image'), virtualSize: 1, contentType: 'application/octet-stream' });
    const mismatch = await sim.run('POST', '/nodes/pve/storage/local/download-url', {
      content: 'import', filename: 'a.qcow2', url: URL, checksum: 'ab'.repeat(32), 'checksum-algorithm': 'sha256',
    });
    expect(mismatch.exitstatus).toMatch(/^checksum mismatch: got '[0-9a-f]{64}' != expect 'abab/);
    const missing = await sim.run('POST', '/nodes/pve/storage/local/download-url', { content: 'import', filename: 'b.qcow2', url: `${URL}.gone` });
    expect(missing.log).toContain('ERROR 404: Not Found.');
    await expect(sim.call('POST', '/nodes/pve/storage/local/download-url', { content: 'import', filename: 'c.qcow2.xz', url: URL })).rejects.toMatchObject({
      status: 400,
      errors: { filename: 'invalid filename or wrong extension' },
    });
    await expect(sim.call('POST', '/nodes/pve/storage/local-lvm/download-url', { content: 'import', filename: 'd.qcow2', url: URL })).rejects.toMatchObject({
      status: 500,
      message: "can't upload to storage type 'lvmthin', not a file based storage!\n",
    });
  });

  it('deletes a volume in an imgdel task, but not one a VM uses', async () => {
    const sim = testSim();
    addStorage(sim.ctx, { id: 'nfs', type: 'nfs', content: ['import', 'images'], path: '/mnt/pve/nfs' });
    const nfs = sim.ctx.storages.get('nfs')!;
    nfs.volumes.set('nfs:import/x.raw', { volid: 'nfs:import/x.raw', storage: 'nfs', content: 'import', format: 'raw', size: 1, ctime: 0 });
    nfs.volumes.set('nfs:vm-100-disk-0', { volid: 'nfs:vm-100-disk-0', storage: 'nfs', content: 'images', format: 'raw', size: 1, vmid: 100, ctime: 0 });
    sim.ctx.vms.set(100, { vmid: 100, config: {}, status: 'stopped', qmpstatus: 'stopped' });
    const deleted = await sim.run('DELETE', '/nodes/pve/storage/nfs/content/import/x.raw');
    expect(deleted).toMatchObject({ type: 'imgdel', id: '', exitstatus: 'OK' });
    expect(nfs.volumes.has('nfs:import/x.raw')).toBe(false);
    await expect(sim.call('DELETE', '/nodes/pve/storage/nfs/content/nfs:vm-100-disk-0')).rejects.toMatchObject({
      status: 500,
      message: "unable to delete 'nfs:vm-100-disk-0' - volume is in use by VM 100\n",
    });
  });
});
