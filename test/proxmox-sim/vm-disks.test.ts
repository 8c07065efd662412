import { describe, expect, it } from '@jest/globals';
import { pveReferenceAvailable } from './schema.js';
import { GiB } from './state.js';
import { TEST_TOKEN, testSim, type TestSim } from './testing.js';

const maybe = pveReferenceAvailable() ? describe : describe.skip;

function withImport(sim: TestSim): string {
  const volid = 'local:import/noble.qcow2';
  sim.ctx.storages.get('local')!.volumes.set(volid, { volid, storage: 'local', content: 'import', format: 'qcow2', size: 2 * GiB, ctime: 0 });
  return volid;
}

maybe('VM disks: allocation, import, cloud-init drive and resize', () => {
  it('imports a disk with import-from and makes the cloud-init drive', async () => {
    const sim = testSim();
    const source = withImport(sim);
    const task = await sim.run('POST', '/nodes/pve/qemu', { vmid: '100', scsi0: `local-lvm:0,import-from=${source},discard=on`, ide2: 'local-lvm:cloudinit' });
    expect(task.exitstatus).toBe('OK');
    expect(task.log).toContain(`importing disk '${source}' to VM 100 ...`);
    expect(sim.ctx.vms.get(100)!.config).toMatchObject({ scsi0: 'local-lvm:vm-100-disk-0,discard=on,size=2G', ide2: 'local-lvm:vm-100-cloudinit,media=cdrom' });
    expect([...sim.ctx.storages.get('local-lvm')!.volumes.keys()].sort()).toEqual(['local-lvm:vm-100-cloudinit', 'local-lvm:vm-100-disk-0']);
  });

  it('refuses import-from with a size, a missing source, a storage without images, and a path from a token', async () => {
    const sim = testSim();
    const source = withImport(sim);
    await expect(sim.call('POST', '/nodes/pve/qemu', { vmid: '100', scsi0: `local-lvm:8,import-from=${source}` })).rejects.toMatchObject({ status: 400 });
    await expect(sim.call('POST', '/nodes/pve/qemu', { vmid: '100', scsi0: 'local-lvm:0,import-from=local:import/gone.raw' })).rejects.toMatchObject({
      status: 500,
      message: "volume 'local:import/gone.raw' does not exist\n",
    });
    await expect(sim.call('POST', '/nodes/pve/qemu', { vmid: '100', scsi0: 'local:8' })).rejects.toMatchObject({
      message: "storage 'local' does not support content-type 'images'\n",
    });
    await expect(sim.call('POST', '/nodes/pve/qemu', { vmid: '100', scsi0: 'local-lvm:0,import-from=/root/x.raw' })).rejects.toMatchObject({ status: 403 });
    sim.ctx.access.deny(TEST_TOKEN, '/storage/local-lvm', 'Datastore.AllocateSpace');
    await expect(sim.call('POST', '/nodes/pve/qemu', { vmid: '100', scsi0: 'local-lvm:8' })).rejects.toMatchObject({
      status: 403,
      message: 'Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)\n',
    });
    expect(sim.ctx.tasks.tasks.size).toBe(0);
  });

  it('grows a disk by a relative or absolute size and never shrinks it', async () => {
    const sim = testSim();
    await sim.run('POST', '/nodes/pve/qemu', { vmid: '100', scsi0: 'local-lvm:2' });
    expect((await sim.run('PUT', '/nodes/pve/qemu/100/resize', { disk: 'scsi0', size: '+1G' })).exitstatus).toBe('OK');
    expect(sim.ctx.vms.get(100)!.config.scsi0).toBe('local-lvm:vm-100-disk-0,size=3G');
    expect(sim.ctx.storages.get('local-lvm')!.volumes.get('local-lvm:vm-100-disk-0')!.size).toBe(3 * GiB);
    expect((await sim.run('PUT', '/nodes/pve/qemu/100/resize', { disk: 'scsi0', size: '1G' })).exitstatus).toBe('shrinking disks is not supported');
    expect((await sim.run('PUT', '/nodes/pve/qemu/100/resize', { disk: 'scsi1', size: '+1G' })).exitstatus).toBe("disk 'scsi1' does not exist");
  });
});
