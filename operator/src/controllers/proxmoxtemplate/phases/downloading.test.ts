import { describe, expect, it } from '@jest/globals';
import { ProxmoxError } from '../../../proxmox/errors.js';
import { requeueAfter, requeueWithBackoff } from '../../../runtime/result.js';
import { NEXT } from '../context.js';
import { fixtureBuild, fixtureConfig, fixtureContext, fixtureTemplate, FixtureTemplatePorts, IMPORT_VOLUME } from '../fixture-ports.js';
import { pveError } from '../fake-proxmox.js';
import { downloading } from './downloading.js';

function downloadingContext() {
  const ports = new FixtureTemplatePorts();
  const template = fixtureTemplate();
  const ctx = fixtureContext(ports, template, { phase: 'Downloading', build: fixtureBuild(template) });
  return { ports, ctx, api: ports.api };
}

describe('phase Downloading', () => {
  it('starts the download to the import storage with the checksum, saves the task and polls later', async () => {
    const { ctx, api } = downloadingContext();
    await expect(downloading(ctx)).resolves.toEqual(requeueAfter(fixtureConfig.taskPollMs));
    expect(api.changes).toEqual([`download ${IMPORT_VOLUME}`]);
    expect(ctx.status.currentTask).toMatchObject({ upid: api.runningTasks()[0]!.upid, type: 'download', node: 'pve' });
    expect(ctx.status.phase).toBe('Downloading');
  });

  it('downloads nothing when the image is already in place, and moves on to Creating', async () => {
    const { ctx, api, ports } = downloadingContext();
    api.addVolume(IMPORT_VOLUME);
    await expect(downloading(ctx)).resolves.toBe(NEXT);
    expect(api.changes).toEqual([]);
    expect(ctx.status.phase).toBe('Creating');
    expect(ctx.status.build?.step).toBe('create');
    expect(ports.reasons()).toEqual(['Downloaded']);
  });

  it('polls again while the task runs, and moves on once it ended', async () => {
    const { ctx, api, ports } = downloadingContext();
    await downloading(ctx);
    await expect(downloading(ctx)).resolves.toEqual(requeueAfter(fixtureConfig.taskPollMs));
    expect(api.changes).toHaveLength(1);
    api.finishTask(ctx.status.currentTask!.upid!);
    await expect(downloading(ctx)).resolves.toBe(NEXT);
    expect(ctx.status.currentTask).toBeUndefined();
    expect(ctx.status.phase).toBe('Creating');
    expect(ports.tasks).toEqual([{ type: 'download', ok: true }]);
  });

  it('fails the build with the task log when the download failed (a checksum mismatch)', async () => {
    const { ctx, api, ports } = downloadingContext();
    await downloading(ctx);
    api.finishTask(ctx.status.currentTask!.upid!, 'checksum mismatch');
    await expect(downloading(ctx)).resolves.toEqual(requeueAfter(fixtureConfig.retryBaseMs));
    expect(ctx.status).toMatchObject({ phase: 'Failed', lastFailedTask: { type: 'download', exitStatus: 'checksum mismatch' } });
    expect(ctx.status.build?.failures).toBe(1);
    expect(ctx.status.currentTask).toBeUndefined();
    expect(ports.finished).toEqual([expect.objectContaining({ result: 'FAIL' })]);
    expect(ports.reasons()).toEqual(['BuildFailed']);
  });

  it('carries on when its download failed but the image is there anyway (another template won the race)', async () => {
    const { ctx, api } = downloadingContext();
    await downloading(ctx);
    api.finishTask(ctx.status.currentTask!.upid!, "refusing to override existing file 'x'");
    api.addVolume(IMPORT_VOLUME);
    await expect(downloading(ctx)).resolves.toBe(NEXT);
    expect(ctx.status.phase).toBe('Creating');
  });

  it('retries with backoff, in the same phase, when the task could not get its lock', async () => {
    const { ctx, api } = downloadingContext();
    await downloading(ctx);
    api.finishTask(ctx.status.currentTask!.upid!, "can't lock file '/var/lock/pve-manager/pve-storage-local' - got timeout");
    await expect(downloading(ctx)).resolves.toBe(requeueWithBackoff());
    expect(ctx.status.phase).toBe('Downloading');
  });

  it('looks at the storage again when the task is gone (node rebooted): starts the download anew', async () => {
    const { ctx, api } = downloadingContext();
    ctx.status.currentTask = { upid: 'UPID:pve:lost', type: 'download' };
    await expect(downloading(ctx)).resolves.toEqual(requeueAfter(fixtureConfig.taskPollMs));
    expect(api.changes).toEqual([`download ${IMPORT_VOLUME}`]);
  });

  it('lets a PVE error of the call through to the runner, transient or not', async () => {
    const { ctx, api } = downloadingContext();
    api.failNext('downloadUrl', pveError('unavailable', 'proxy loop', true));
    await expect(downloading(ctx)).rejects.toMatchObject({ code: 'unavailable', transient: true });
    api.failNext('downloadUrl', pveError('parameter', "storage 'local' is not configured for content-type 'import'"));
    const err = await downloading(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxmoxError);
    expect(ctx.status.currentTask).toBeUndefined();
  });
});
