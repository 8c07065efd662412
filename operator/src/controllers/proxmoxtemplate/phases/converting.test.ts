import { describe, expect, it } from '@jest/globals';
import type { BuildStep, ProxmoxTemplate } from '@anvil/core/api';
import { requeueAfter, requeueWithBackoff } from '../../../runtime/result.js';
import { NEXT } from '../context.js';
import { pveError } from '../fake-proxmox.js';
import { builtVmConfig, fixtureBuild, fixtureConfig, fixtureContext, fixtureTemplate, fixtureVersion, FixtureTemplatePorts } from '../fixture-ports.js';
import { converting } from './converting.js';

const poll = requeueAfter(fixtureConfig.taskPollMs);

function convertingContext(step: BuildStep, spec: Partial<ProxmoxTemplate['spec']> = {}, vm: 'ours' | 'template' | 'none' = 'ours') {
  const ports = new FixtureTemplatePorts();
  const template = fixtureTemplate(spec);
  const build = fixtureBuild(template, { step, vmid: 100 });
  if (vm !== 'none') ports.api.addVm(100, builtVmConfig(template, build, vm === 'template'));
  const ctx = fixtureContext(ports, template, { phase: 'Converting', build });
  return { ports, ctx, api: ports.api, template };
}

describe('phase Converting', () => {
  it('grows the root disk to spec.vm.diskSize, then converts the VM to a template', async () => {
    const { ctx, api } = convertingContext('resize', { vm: { diskSize: '20G' } });
    await expect(converting(ctx)).resolves.toEqual(poll);
    expect(api.changes).toEqual(['resize 100']);
    await expect(converting(ctx)).resolves.toEqual(poll);
    expect(api.changes).toHaveLength(1);
    api.finishTask(ctx.status.currentTask!.upid!);
    await expect(converting(ctx)).resolves.toEqual(poll);
    expect(api.changes).toEqual(['resize 100', 'qmtemplate 100']);
    expect(ctx.status.build?.step).toBe('template');
    expect(api.vms.get(100)).toMatchObject({ 'scsi0-size': '20G' });
  });

  it('turns the finished template into a kept, active version and goes to Ready', async () => {
    const { ctx, api, ports, template } = convertingContext('template');
    await converting(ctx);
    api.finishTask(ctx.status.currentTask!.upid!);
    await expect(converting(ctx)).resolves.toBe(NEXT);
    expect(ctx.status).toMatchObject({ phase: 'Ready', activeVersion: 1, vmid: 100, templateName: 'noble-v1', imageChecksum: fixtureVersion(template, 1, 100).checksum });
    expect(ctx.status.versions).toEqual([{ ...fixtureVersion(template, 1, 100), createdAt: expect.any(String) as unknown as string }]);
    expect(ctx.status.build).toBeUndefined();
    expect(ports.finished).toEqual([expect.objectContaining({ result: 'SUCCESS', vmid: 100 })]);
    expect(ports.reasons()).toEqual(['BuildSucceeded']);
  });

  it('converts nothing when the VM already is a template (a restart after the conversion)', async () => {
    const { ctx, api } = convertingContext('template', {}, 'template');
    await expect(converting(ctx)).resolves.toBe(NEXT);
    expect(ctx.status.phase).toBe('Ready');
    expect(api.changes).toEqual([]);
  });

  it('creates the VM again when it vanished (or was replaced) mid-build', async () => {
    const { ctx, ports } = convertingContext('template', {}, 'none');
    await expect(converting(ctx)).resolves.toBe(NEXT);
    expect(ctx.status).toMatchObject({ phase: 'Creating', build: { step: 'create' } });
    expect(ctx.status.build?.vmid).toBeUndefined();
    expect(ports.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'VMLost' })]);
  });

  it('fails the build when the conversion task failed, retries with backoff on a lock timeout', async () => {
    const failed = convertingContext('template');
    await converting(failed.ctx);
    failed.api.finishTask(failed.ctx.status.currentTask!.upid!, 'unable to convert: disk is busy');
    await expect(converting(failed.ctx)).resolves.toEqual(requeueAfter(fixtureConfig.retryBaseMs));
    expect(failed.ctx.status).toMatchObject({ phase: 'Failed', lastFailedTask: { type: 'qmtemplate', exitStatus: 'unable to convert: disk is busy' } });

    const locked = convertingContext('template');
    await converting(locked.ctx);
    locked.api.finishTask(locked.ctx.status.currentTask!.upid!, "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout");
    await expect(converting(locked.ctx)).resolves.toBe(requeueWithBackoff());
    expect(locked.ctx.status.phase).toBe('Converting');
  });

  it('lets a PVE error of the call through to the runner', async () => {
    const { ctx, api } = convertingContext('template');
    api.failNext('convertToTemplate', pveError('permission', 'Permission check failed (/vms/100, VM.Allocate)'));
    await expect(converting(ctx)).rejects.toMatchObject({ code: 'permission', transient: false });
    expect(ctx.status.currentTask).toBeUndefined();
  });
});
