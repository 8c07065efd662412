import { describe, expect, it } from '@jest/globals';
import type { ProxmoxTemplate } from '@anvil/core/api';
import { commitThenContinue, requeueAfter } from '../../../runtime/result.js';
import { NEXT } from '../context.js';
import { pveError } from '../fake-proxmox.js';
import { builtVmConfig, fixtureBuild, fixtureConfig, fixtureContext, fixtureTemplate, FixtureTemplatePorts, IMPORT_VOLUME } from '../fixture-ports.js';
import { creating } from './creating.js';

const poll = requeueAfter(fixtureConfig.taskPollMs);

function creatingContext(spec: Partial<ProxmoxTemplate['spec']> = {}, vmid?: number) {
  const ports = new FixtureTemplatePorts();
  const template = fixtureTemplate(spec);
  ports.api.addVolume(IMPORT_VOLUME);
  const build = fixtureBuild(template, { step: 'create', ...(vmid !== undefined ? { vmid } : {}) });
  const ctx = fixtureContext(ports, template, { phase: 'Creating', build });
  return { ports, ctx, api: ports.api, template };
}

describe('phase Creating', () => {
  it('chooses a VMID and commits it before creating anything', async () => {
    const { ctx, api } = creatingContext();
    api.addVm(100, { name: 'someone-else' });
    await expect(creating(ctx)).resolves.toBe(commitThenContinue());
    expect(ctx.status.build?.vmid).toBe(101);
    expect(api.changes).toEqual([]);
  });

  it('chooses in spec.vm.vmidRange, and fails the build when the range is full', async () => {
    const full = creatingContext({ vm: { vmidRange: { min: 9000, max: 9001 } } });
    full.api.addVm(9000, {});
    full.api.usedElsewhere.add(9001);
    await expect(creating(full.ctx)).resolves.toEqual(requeueAfter(fixtureConfig.retryBaseMs));
    expect(full.ctx.status.phase).toBe('Failed');
    expect(full.ctx.status.conditions).toContainEqual(expect.objectContaining({ type: 'Building', reason: 'NoFreeVMID' }));
  });

  it('creates the VM with the imported disk and its owner marker, saves the task and polls', async () => {
    const { ctx, api, template } = creatingContext({}, 100);
    await expect(creating(ctx)).resolves.toEqual(poll);
    expect(api.changes).toEqual(['qmcreate 100']);
    expect(ctx.status.currentTask).toMatchObject({ type: 'qmcreate' });
    api.finishTask(ctx.status.currentTask!.upid!);
    expect(api.vms.get(100)).toMatchObject({ name: 'noble-v1', scsi0: expect.stringContaining(`import-from=${IMPORT_VOLUME}`) as unknown as string, description: builtVmConfig(template, ctx.status.build!, false).description });
  });

  it('polls while qmcreate runs, then moves on to Converting (resize first when spec.vm.diskSize is set)', async () => {
    const { ctx, api, ports } = creatingContext({ vm: { diskSize: '20G' } }, 100);
    await creating(ctx);
    await expect(creating(ctx)).resolves.toEqual(poll);
    api.finishTask(ctx.status.currentTask!.upid!);
    await expect(creating(ctx)).resolves.toBe(NEXT);
    expect(ctx.status).toMatchObject({ phase: 'Converting', build: { step: 'resize' } });
    expect(ctx.status.currentTask).toBeUndefined();
    expect(ports.reasons()).toEqual(['Created']);
    expect(api.changes).toEqual(['qmcreate 100']);
  });

  it('creates nothing when its VM already exists (a create whose UPID a restart lost), straight to the template step', async () => {
    const { ctx, api, template } = creatingContext({}, 100);
    api.addVm(100, builtVmConfig(template, ctx.status.build!, false));
    await expect(creating(ctx)).resolves.toBe(NEXT);
    expect(ctx.status).toMatchObject({ phase: 'Converting', build: { step: 'template' } });
    expect(api.changes).toEqual([]);
  });

  it('waits for a create that still holds its lock, whoever started it', async () => {
    const { ctx, api } = creatingContext({}, 100);
    api.addVm(100, { lock: 'create' });
    await expect(creating(ctx)).resolves.toEqual(poll);
    expect(ctx.status.build?.vmid).toBe(100);
  });

  it("picks another VMID when the chosen one is someone else's, and remembers it", async () => {
    const { ctx, api, ports } = creatingContext({}, 100);
    api.addVm(100, { name: 'their-vm', description: 'hand made' });
    await expect(creating(ctx)).resolves.toBe(NEXT);
    expect(ctx.status.phase).toBe('Creating');
    expect(ctx.status.build?.vmid).toBeUndefined();
    expect(ctx.status.build?.takenVmids).toEqual([100]);
    expect(ports.reasons()).toEqual(['VMIDTaken']);
    await expect(creating(ctx)).resolves.toBe(commitThenContinue());
    expect(ctx.status.build?.vmid).toBe(101);
  });

  it('picks another VMID when qmcreate failed because the VMID is in use elsewhere in the cluster', async () => {
    const { ctx, api } = creatingContext({}, 100);
    await creating(ctx);
    api.finishTask(ctx.status.currentTask!.upid!, "VM 100 already exists on node 'pve2'");
    await expect(creating(ctx)).resolves.toBe(NEXT);
    expect(ctx.status.build).toMatchObject({ takenVmids: [100] });
    expect(ctx.status.phase).toBe('Creating');
  });

  it('reads the marker next time when the VM appeared between its look and its create call', async () => {
    const { ctx, api } = creatingContext({}, 100);
    api.failNext('createVm', pveError('already-exists', "VM 100 already exists on node 'pve'"));
    await expect(creating(ctx)).resolves.toEqual(poll);
    expect(ctx.status.currentTask).toBeUndefined();
  });

  it('fails the build when qmcreate failed for good, and lets a transient PVE error through', async () => {
    const { ctx, api } = creatingContext({}, 100);
    await creating(ctx);
    api.finishTask(ctx.status.currentTask!.upid!, "storage 'local-lvm' does not exist");
    await expect(creating(ctx)).resolves.toEqual(requeueAfter(fixtureConfig.retryBaseMs));
    expect(ctx.status).toMatchObject({ phase: 'Failed', lastFailedTask: { type: 'qmcreate' } });
    expect(api.vms.has(100)).toBe(false);
    const again = creatingContext({}, 100);
    again.api.failNext('getVmConfig', pveError('network', 'connection reset', true));
    await expect(creating(again.ctx)).rejects.toMatchObject({ code: 'network', transient: true });
  });
});
