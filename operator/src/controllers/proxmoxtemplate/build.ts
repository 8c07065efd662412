// The build in progress (status.build): starting one, resuming a failed one, finishing it as a new version, or
// abandoning it (its half-made VM removed). Each writes the build's history record and an event.
import type { ProxmoxTemplateBuild, ProxmoxTemplatePhase, ProxmoxTemplateVersion } from '@anvil/core/api';
import { kubeTime } from '@anvil/core/conditions';
import { ProxmoxError } from '../../proxmox/errors.js';
import { deleteImageUnlessInUse, deleteOwnedVm, imagesInUse, removeValidationVm } from './cleanup.js';
import { importStorage, type TemplateContext } from './context.js';
import type { DesiredBuild } from './desired.js';
import type { BuildRecord } from './ports.js';
import { buildId, isOurBuild, versionName } from './settings.js';
import { importVolumeFor } from './source.js';
import { activate } from './versions.js';

/** The phase that carries out a build's step. */
export function phaseOfStep(build: ProxmoxTemplateBuild): ProxmoxTemplatePhase {
  return build.step === 'download' ? 'Downloading' : build.step === 'create' ? 'Creating' : build.step === 'validate' ? 'Validating' : 'Converting';
}

export function historyRecord(ctx: TemplateContext, build: ProxmoxTemplateBuild): BuildRecord {
  return {
    id: build.id,
    namespace: ctx.template.metadata.namespace ?? '',
    name: ctx.template.metadata.name!,
    version: build.version,
    ...(build.vmid !== undefined ? { vmid: build.vmid } : {}),
    node: ctx.template.spec.connection.node,
    startedAt: ctx.now,
  };
}

/** One more than any version kept, active or being built (an abandoned build's number is free again: its VM is gone). */
export function nextVersion(ctx: TemplateContext): number {
  const known = [...(ctx.status.versions ?? []).map((v) => v.version), ctx.status.build?.version ?? 0, ctx.status.activeVersion ?? 0];
  return Math.max(0, ...known) + 1;
}

/** A new build of the next version, at its download step. */
export async function startBuild(ctx: TemplateContext, desired: DesiredBuild): Promise<ProxmoxTemplateBuild> {
  const { template } = ctx;
  const version = nextVersion(ctx);
  const build: ProxmoxTemplateBuild = {
    id: buildId(template, version, 0),
    version,
    name: versionName(template, version),
    imageURL: desired.url,
    checksum: desired.checksum,
    algorithm: desired.algorithm,
    importVolume: importVolumeFor(importStorage(template), desired),
    settingsHash: desired.settingsHash,
    ...(desired.release ? { release: desired.release } : {}),
    step: 'download',
    startedAt: kubeTime(ctx.now),
    failures: 0,
  };
  ctx.status.build = build;
  await ctx.ports.history.started(historyRecord(ctx, build));
  ctx.ports.event(template, 'Normal', 'BuildStarted', `building version ${version} (${build.name}) from ${desired.url}`);
  return build;
}

/** A retry of a failed build: a new history record, the same VMID, image and step. */
export async function resumeBuild(ctx: TemplateContext, build: ProxmoxTemplateBuild): Promise<void> {
  build.id = buildId(ctx.template, build.version, build.failures ?? 0);
  build.startedAt = kubeTime(ctx.now);
  await ctx.ports.history.started(historyRecord(ctx, build));
  ctx.ports.event(ctx.template, 'Normal', 'BuildResumed', `resuming version ${build.version} at step ${build.step}`);
}

/** The build's template exists: it becomes a kept version, and the active one unless a pin says otherwise. */
export async function finishBuild(ctx: TemplateContext): Promise<void> {
  const { status, template } = ctx;
  const build = status.build!;
  const version: ProxmoxTemplateVersion = {
    version: build.version,
    vmid: build.vmid!,
    name: build.name!,
    checksum: build.checksum!,
    imageURL: build.imageURL!,
    settingsHash: build.settingsHash!,
    ...(build.release ? { release: build.release } : {}),
    ...(build.validation ? { validated: true } : {}),
    createdAt: kubeTime(ctx.now),
  };
  status.versions = [...(status.versions ?? []).filter((v) => v.version !== build.version), version].sort((a, b) => a.version - b.version);
  delete status.build;
  delete status.nextRetryAt;
  await ctx.ports.history.finished({ id: build.id, result: 'SUCCESS', finishedAt: ctx.now, checksum: build.checksum!, vmid: build.vmid! });
  ctx.ports.event(template, 'Normal', 'BuildSucceeded', `version ${build.version} is template ${build.name} (VMID ${build.vmid})`);
  activate(ctx);
}

/** Gives up the build in progress: its half-made VM is removed, its history record says CANCELLED. */
export async function abandonBuild(ctx: TemplateContext, why: string): Promise<void> {
  const build = ctx.status.build!;
  if (ctx.status.currentTask) {
    const state = await ctx.api.taskStatus(ctx.status.currentTask.upid!).catch(() => undefined);
    if (state?.status === 'running') throw new ProxmoxError({ code: 'lock', status: 0, pveMessage: `waiting for task ${state.type} of the abandoned build to end`, transient: true });
    delete ctx.status.currentTask;
  }
  // A validation VM first: a linked clone keeps its template's disks in use.
  if (build.validation?.vmid !== undefined) await removeValidationVm(ctx, build.validation.vmid, build.version);
  if (build.vmid !== undefined) await deleteOwnedVm(ctx, build.vmid, (m) => isOurBuild(ctx.template, m, build.version));
  await deleteImageUnlessInUse(ctx, build.importVolume, imagesInUse(ctx, { withBuild: false }));
  await ctx.ports.history.finished({ id: build.id, result: 'CANCELLED', finishedAt: ctx.now, failureReason: why });
  ctx.ports.event(ctx.template, 'Normal', 'BuildCancelled', `version ${build.version} abandoned: ${why}`);
  delete ctx.status.build;
}
