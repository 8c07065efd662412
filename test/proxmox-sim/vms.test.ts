import { describe, expect, it } from '@jest/globals';
import { pveReferenceAvailable } from './schema.js';
import { configDigest } from './state.js';
import { TEST_TOKEN, testSim } from './testing.js';
import { createForeignVm } from './vms.js';

const maybe = pveReferenceAvailable() ? describe : describe.skip;

maybe('VMs: registry, create and config', () => {
  it('answers the next free VMID and refuses a taken one', async () => {
    const sim = testSim();
    createForeignVm(sim.ctx, 100);
    expect((await sim.call('GET', '/cluster/nextid')).data).toBe('101');
    expect((await sim.call('GET', '/cluster/nextid', { vmid: '200' })).data).toBe('200');
    await expect(sim.call('GET', '/cluster/nextid', { vmid: '100' })).rejects.toMatchObject({ status: 400, errors: { vmid: 'VM 100 already exists' } });
  });

  it('lists only the VMs the token may audit', async () => {
    const sim = testSim();
    createForeignVm(sim.ctx, 100, { cores: 2, memory: '2048' });
    createForeignVm(sim.ctx, 101);
    sim.ctx.access.deny(TEST_TOKEN, '/vms/101', 'VM.Audit');
    expect((await sim.call('GET', '/nodes/pve/qemu')).data).toEqual([
      { vmid: 100, name: 'foreign-100', status: 'stopped', cpus: 2, maxmem: 2048 * 1024 ** 2, maxdisk: 0, uptime: 0 },
    ]);
  });

  it('creates a VM with typed options in a qmcreate task; a taken VMID fails before or inside the task', async () => {
    const sim = testSim();
    const task = await sim.run('POST', '/nodes/pve/qemu', { vmid: '100', name: 'web', cores: '2', agent: '1', cipassword: 'pw' });
    expect(task).toMatchObject({ type: 'qmcreate', id: '100', exitstatus: 'OK' });
    expect(sim.ctx.vms.get(100)!.config).toMatchObject({ name: 'web', cores: 2, agent: '1', cipassword: '**********' });
    expect(sim.ctx.vms.get(100)!.config).not.toHaveProperty('lock');
    await expect(sim.call('POST', '/nodes/pve/qemu', { vmid: '100' })).rejects.toMatchObject({
      status: 500,
      message: 'unable to create VM 100: config file already exists\n',
    });
    sim.races.add(101);
    const raced = await sim.run('POST', '/nodes/pve/qemu', { vmid: '101', name: 'mine' });
    expect(raced.exitstatus).toBe("VM 101 already exists on node 'pve'");
    expect(sim.ctx.vms.get(101)!.config.name).toBe('foreign-101');
  });

  it('serves the config with its digest and refuses a stale digest or a locked VM', async () => {
    const sim = testSim();
    createForeignVm(sim.ctx, 100);
    const { data } = await sim.call('GET', '/nodes/pve/qemu/100/config');
    expect(data).toEqual({ name: 'foreign-100', memory: '512', digest: configDigest(sim.ctx.vms.get(100)!.config) });
    await sim.call('PUT', '/nodes/pve/qemu/100/config', { cores: '4', delete: 'memory', digest: (data as { digest: string }).digest });
    expect(sim.ctx.vms.get(100)!.config).toEqual({ name: 'foreign-100', cores: 4 });
    await expect(sim.call('PUT', '/nodes/pve/qemu/100/config', { cores: '2', digest: (data as { digest: string }).digest })).rejects.toMatchObject({
      status: 500,
      message: 'detected modified configuration - file changed by other user? Try again.\n',
    });
    const release = sim.ctx.tasks.locks.holdExternally(100);
    await expect(sim.call('PUT', '/nodes/pve/qemu/100/config', { cores: '2' })).rejects.toMatchObject({
      status: 500,
      message: "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout\n",
    });
    release();
    const task = await sim.run('POST', '/nodes/pve/qemu/100/config', { cores: '3' });
    expect(task).toMatchObject({ type: 'qmconfig', exitstatus: 'OK' });
    expect(sim.ctx.vms.get(100)!.config.cores).toBe(3);
  });
});
