import { describe, expect, it } from '@jest/globals';
import { pveReferenceAvailable } from './schema.js';
import { testSim, type TestSim } from './testing.js';

const maybe = pveReferenceAvailable() ? describe : describe.skip;

async function vmWithDisk(sim: TestSim, vmid: number, extra: Record<string, string> = {}): Promise<void> {
  const task = await sim.run('POST', '/nodes/pve/qemu', { vmid: String(vmid), scsi0: 'local-lvm:1', ...extra });
  expect(task.exitstatus).toBe('OK');
}

maybe('VM lifecycle and power: template, clone, destroy, start/stop', () => {
  it('converts a VM to a template (base- volumes) and clones it linked or full', async () => {
    const sim = testSim();
    await vmWithDisk(sim, 100);
    expect((await sim.run('POST', '/nodes/pve/qemu/100/template')).exitstatus).toBe('OK');
    expect(sim.ctx.vms.get(100)!.config).toMatchObject({ template: 1, scsi0: 'local-lvm:base-100-disk-0,size=1G' });
    await expect(sim.call('POST', '/nodes/pve/qemu/100/template')).rejects.toMatchObject({ message: "you can't convert a template to a template\n" });

    expect((await sim.run('POST', '/nodes/pve/qemu/100/clone', { newid: '101', name: 'linked' })).exitstatus).toBe('OK');
    expect(sim.ctx.vms.get(101)!.config).toMatchObject({ name: 'linked', scsi0: 'local-lvm:base-100-disk-0/vm-101-disk-0,size=1G' });
    expect((await sim.run('POST', '/nodes/pve/qemu/100/clone', { newid: '102', full: '1' })).exitstatus).toBe('OK');
    expect(sim.ctx.vms.get(102)!.config.scsi0).toBe('local-lvm:vm-102-disk-0,size=1G');
    await expect(sim.call('POST', '/nodes/pve/qemu/100/clone', { newid: '101' })).rejects.toMatchObject({
      message: 'unable to create VM 101: config file already exists\n',
    });
  });

  it('destroys a stopped VM with its disks, and refuses a running or protected one', async () => {
    const sim = testSim();
    await vmWithDisk(sim, 100);
    await vmWithDisk(sim, 101, { protection: '1' });
    expect((await sim.run('POST', '/nodes/pve/qemu/100/status/start')).exitstatus).toBe('OK');
    await expect(sim.call('DELETE', '/nodes/pve/qemu/100')).rejects.toMatchObject({ message: 'VM 100 is running - destroy failed\n' });
    await expect(sim.call('DELETE', '/nodes/pve/qemu/101')).rejects.toMatchObject({ message: "can't remove VM 101 - protection mode enabled\n" });
    expect((await sim.run('POST', '/nodes/pve/qemu/100/status/stop')).exitstatus).toBe('OK');
    const destroyed = await sim.run('DELETE', '/nodes/pve/qemu/100', { purge: '1' });
    expect(destroyed).toMatchObject({ type: 'qmdestroy', exitstatus: 'OK' });
    expect(sim.ctx.vms.has(100)).toBe(false);
    expect(sim.ctx.storages.get('local-lvm')!.volumes.has('local-lvm:vm-100-disk-0')).toBe(false);
  });

  it('starts, suspends and resumes a VM as status/current shows, and fails starts PVE refuses', async () => {
    const sim = testSim();
    await vmWithDisk(sim, 100, { net0: 'virtio,bridge=vmbr0', agent: '1' });
    await vmWithDisk(sim, 101, { net0: 'virtio,bridge=vmbr9' });
    await expect(sim.call('POST', '/nodes/pve/qemu/100/status/shutdown')).rejects.toMatchObject({ message: 'VM 100 not running\n' });
    expect((await sim.run('POST', '/nodes/pve/qemu/100/status/start')).exitstatus).toBe('OK');
    expect((await sim.run('POST', '/nodes/pve/qemu/100/status/suspend')).exitstatus).toBe('OK');
    expect((await sim.call('GET', '/nodes/pve/qemu/100/status/current')).data).toMatchObject({
      vmid: 100, status: 'running', qmpstatus: 'paused', agent: 1, maxdisk: 1024 ** 3, ha: { managed: 0 },
    });
    expect((await sim.run('POST', '/nodes/pve/qemu/100/status/resume')).exitstatus).toBe('OK');
    expect(sim.ctx.vms.get(100)!.qmpstatus).toBe('running');
    expect((await sim.run('POST', '/nodes/pve/qemu/101/status/start')).exitstatus).toBe("bridge 'vmbr9' does not exist");
    expect((await sim.run('POST', '/nodes/pve/qemu/101/template')).exitstatus).toBe('OK');
    expect((await sim.run('POST', '/nodes/pve/qemu/101/status/start')).exitstatus).toBe("you can't start a vm if it's a template");
  });
});
