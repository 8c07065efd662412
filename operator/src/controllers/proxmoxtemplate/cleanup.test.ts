import { describe, expect, it } from '@jest/globals';
import { done, requeueAfter } from '../../runtime/result.js';
import { deleteEverything } from './cleanup.js';
import { builtVmConfig, fixtureBuild, fixtureConfig, fixtureContext, fixtureTemplate, fixtureVersion, FixtureTemplatePorts, IMPORT_VOLUME } from './fixture-ports.js';

/** A template with version 1 kept (VMID 100) and version 2 being built (VMID 101) from another image. */
function deletingContext() {
  const ports = new FixtureTemplatePorts();
  const template = fixtureTemplate();
  const otherImage = 'local:import/noble-v2-image.qcow2';
  const build = fixtureBuild(template, { version: 2, vmid: 101, step: 'template', importVolume: otherImage });
  ports.api.addVm(100, builtVmConfig(template, fixtureBuild(template), true));
  ports.api.addVm(101, builtVmConfig(template, build, false));
  ports.api.addVolume(IMPORT_VOLUME);
  ports.api.addVolume(otherImage);
  const ctx = fixtureContext(ports, template, { phase: 'Deleting', versions: [fixtureVersion(template, 1, 100)], activeVersion: 1, build });
  return { ports, ctx, api: ports.api };
}

describe('deleting everything a ProxmoxTemplate made', () => {
  it('removes every version, the build in progress and the images, then says done', async () => {
    const { ctx, api, ports } = deletingContext();
    await expect(deleteEverything(ctx)).resolves.toBe(done());
    expect(api.vms.size).toBe(0);
    expect(api.volumes).toEqual([]);
    expect(ctx.status.versions).toEqual([]);
    expect(ctx.status.build).toBeUndefined();
    expect(ports.finished).toEqual([expect.objectContaining({ result: 'CANCELLED', failureReason: 'the ProxmoxTemplate was deleted' })]);
  });

  it('waits for a running task of the build to end before removing anything', async () => {
    const { ctx, api } = deletingContext();
    const upid = await api.convertToTemplate(101);
    ctx.status.currentTask = { upid, type: 'qmtemplate' };
    await expect(deleteEverything(ctx)).resolves.toEqual(requeueAfter(fixtureConfig.taskPollMs));
    expect(api.vms.size).toBe(2);
    expect(ctx.status.message).toContain('waiting for task qmtemplate');
    api.finishTask(upid);
    await expect(deleteEverything(ctx)).resolves.toBe(done());
    expect(api.vms.size).toBe(0);
  });

  it('leaves a VM alone whose VMID someone else reused, and is done when what it made is gone (idempotent)', async () => {
    const { ctx, api } = deletingContext();
    api.vms.set(100, { name: 'their-vm', description: 'hand made' });
    await expect(deleteEverything(ctx)).resolves.toBe(done());
    expect([...api.vms.keys()]).toEqual([100]);
    await expect(deleteEverything(ctx)).resolves.toBe(done());
  });
});
