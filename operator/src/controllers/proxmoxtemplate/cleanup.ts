// Removing what a ProxmoxTemplate made: old versions beyond spec.versions.keep, a half-made VM of an abandoned build,
// and everything when the object is deleted (unless retainPolicy is Retain). A VM is only ever deleted when its
// description carries this object's owner marker: a VMID someone else reused is left alone.
import type { ProxmoxTemplateVersion } from '@anvil/core/api';
import { ProxmoxError } from '../../proxmox/errors.js';
import { done, requeueAfter, type ReconcileResult } from '../../runtime/result.js';
import { importStorage, type TemplateContext } from './context.js';
import { ownerKey, parseOwnerMarker, type OwnerMarker } from './settings.js';
import { importVolumeFor } from './source.js';

/** The downloaded image a version was built from (versions built from the same image share it). */
function imageVolumeOf(ctx: TemplateContext, v: ProxmoxTemplateVersion): string | undefined {
  return v.imageURL && v.checksum ? importVolumeFor(importStorage(ctx.template), { url: v.imageURL, checksum: v.checksum }) : undefined;
}

/** Deletes a VM (purging its disks) when `owned` accepts its marker; true when it is gone or was never there. */
export async function deleteOwnedVm(ctx: TemplateContext, vmid: number, owned: (marker: OwnerMarker) => boolean): Promise<boolean> {
  const config = await ctx.api.getVmConfig(vmid);
  if (!config) return true;
  const marker = parseOwnerMarker(config);
  if (!marker || !owned(marker)) return false;
  const started = Date.now();
  const result = await ctx.api.waitForTask(await ctx.api.deleteVm(vmid, { purge: true, destroyUnreferencedDisks: true }), {
    intervalMs: Math.min(ctx.config.taskPollMs, 1000),
    timeoutMs: ctx.config.cleanupTaskTimeoutMs,
  });
  ctx.ports.taskFinished(result.type, result.ok, (Date.now() - started) / 1000);
  if (!result.ok) throw new ProxmoxError({ code: 'task-failed', status: 0, pveMessage: `deleting VM ${vmid} failed: ${result.exitStatus}`, transient: true });
  return true;
}

/** Stops (waiting for it) and deletes a validation VM of the build of `version`, if it is still there and ours. */
export async function removeValidationVm(ctx: TemplateContext, vmid: number, version: number): Promise<void> {
  const config = await ctx.api.getVmConfig(vmid);
  const marker = config ? parseOwnerMarker(config) : undefined;
  if (!marker || marker.owner !== ownerKey(ctx.template) || marker.version !== version) return;
  if ((await ctx.api.vmStatus(vmid)).status === 'running') {
    const result = await ctx.api.waitForTask(await ctx.api.powerAction(vmid, 'stop'), { intervalMs: Math.min(ctx.config.taskPollMs, 1000), timeoutMs: ctx.config.cleanupTaskTimeoutMs });
    if (!result.ok) throw new ProxmoxError({ code: 'task-failed', status: 0, pveMessage: `stopping validation VM ${vmid} failed: ${result.exitStatus}`, transient: true });
  }
  await deleteOwnedVm(ctx, vmid, (m) => m.owner === marker.owner && m.version === version);
}

/** Images still needed: those of the kept versions and of the build in progress (unless it is being abandoned). */
export function imagesInUse(ctx: TemplateContext, options: { withBuild: boolean }): Set<string> {
  const inUse = new Set<string>();
  for (const v of ctx.status.versions ?? []) {
    const volid = imageVolumeOf(ctx, v);
    if (volid) inUse.add(volid);
  }
  if (options.withBuild && ctx.status.build?.importVolume) inUse.add(ctx.status.build.importVolume);
  return inUse;
}

/** Deletes a downloaded image unless it is in `inUse`; an image already gone counts as deleted. */
export async function deleteImageUnlessInUse(ctx: TemplateContext, volid: string | undefined, inUse: ReadonlySet<string>): Promise<void> {
  if (!volid || inUse.has(volid)) return;
  const storage = volid.split(':')[0]!;
  try {
    const upid = await ctx.api.deleteVolume(storage, volid);
    await ctx.api.runTask(upid, { intervalMs: Math.min(ctx.config.taskPollMs, 1000), timeoutMs: ctx.config.cleanupTaskTimeoutMs });
  } catch (err) {
    if (err instanceof ProxmoxError && err.code === 'not-found') return;
    throw err;
  }
}

/** Deletes the oldest versions beyond spec.versions.keep; the active version is always kept. */
export async function pruneVersions(ctx: TemplateContext): Promise<void> {
  const keep = ctx.template.spec.versions?.keep ?? 3;
  const versions = [...(ctx.status.versions ?? [])].sort((a, b) => a.version - b.version);
  const excess = versions.length - keep;
  if (excess <= 0) return;
  const doomed = versions.filter((v) => v.version !== ctx.status.activeVersion).slice(0, excess);
  for (const v of doomed) {
    await deleteOwnedVm(ctx, v.vmid, (m) => m.owner === ownerKey(ctx.template) && m.version === v.version);
    ctx.status.versions = (ctx.status.versions ?? []).filter((x) => x.version !== v.version);
    await deleteImageUnlessInUse(ctx, imageVolumeOf(ctx, v), imagesInUse(ctx, { withBuild: true }));
    ctx.ports.event(ctx.template, 'Normal', 'VersionDeleted', `deleted version ${v.version} (VMID ${v.vmid}): more than ${keep} kept`);
  }
}

/**
 * The finalizer's work: every version's template, the build in progress and the downloaded images are removed.
 * Returns done() when the finalizer can go, or when to look again.
 */
export async function deleteEverything(ctx: TemplateContext): Promise<ReconcileResult> {
  const { status, template } = ctx;
  const task = status.currentTask;
  if (task) {
    // A create or download cannot be interrupted cleanly: let it end, then remove its result.
    const state = await ctx.api.taskStatus(task.upid!).catch((err: unknown) => {
      if (err instanceof ProxmoxError && err.code === 'not-found') return undefined;
      throw err;
    });
    if (state?.status === 'running') {
      status.message = `deleting: waiting for task ${task.type} (${task.upid}) to end`;
      return requeueAfter(ctx.config.taskPollMs);
    }
    delete status.currentTask;
  }
  const owner = ownerKey(template);
  const build = status.build;
  const images = new Set([...imagesInUse(ctx, { withBuild: true })]);
  for (const v of [...(status.versions ?? [])]) {
    await deleteOwnedVm(ctx, v.vmid, (m) => m.owner === owner && m.version === v.version);
    status.versions = (status.versions ?? []).filter((x) => x.version !== v.version);
  }
  if (build?.vmid !== undefined) await deleteOwnedVm(ctx, build.vmid, (m) => m.owner === owner && m.uid === template.metadata.uid && m.version === build.version);
  for (const volid of images) await deleteImageUnlessInUse(ctx, volid, new Set());
  if (build) {
    await ctx.ports.history.finished({ id: build.id, result: 'CANCELLED', finishedAt: ctx.now, failureReason: 'the ProxmoxTemplate was deleted' });
    delete status.build;
  }
  return done();
}
