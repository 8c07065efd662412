// Ready: checks upstream and the spec now and then (Pending builds when no kept version matches), keeps the versions
// list true to the node, and prunes versions beyond spec.versions.keep.
import { kubeTime } from '@anvil/core/conditions';
import { done, requeueAfter } from '../../../runtime/result.js';
import { pruneVersions } from '../cleanup.js';
import { enter, generationChanged, pinned, type PhaseHandler, type TemplateContext } from '../context.js';
import { desiredBuild, versionMatches } from '../desired.js';
import { releaseAllowed } from '../release-gate.js';
import { activate, dropMissingVersions } from '../versions.js';

/** spec.source.checkIntervalSeconds (0: never) with the operator's lower bound. */
export function checkIntervalMs(ctx: TemplateContext): number {
  const seconds = ctx.template.spec.source.checkIntervalSeconds ?? 86_400;
  return seconds === 0 ? 0 : Math.max(seconds * 1000, ctx.config.minCheckIntervalMs);
}

export const ready: PhaseHandler = async (ctx) => {
  const { status } = ctx;
  const interval = checkIntervalMs(ctx);
  const last = status.lastCheckedAt ? Date.parse(status.lastCheckedAt) : 0;
  const due = generationChanged(ctx) || !status.versions?.length || (interval > 0 && ctx.now.getTime() - last >= interval);
  if (due) {
    await dropMissingVersions(ctx);
    const desired = await desiredBuild(ctx);
    status.lastCheckedAt = kubeTime(ctx.now);
    if (!status.versions?.length || (!pinned(ctx) && !status.versions.some((v) => versionMatches(v, desired)) && releaseAllowed(ctx, desired))) {
      ctx.ports.event(ctx.template, 'Normal', 'UpdateFound', `no kept version matches ${desired.url} (${desired.checksum.slice(0, 12)}) with the current settings; building a new one`);
      return enter(ctx, 'Pending');
    }
  }
  activate(ctx);
  await pruneVersions(ctx);
  status.message = `version ${status.activeVersion} (VMID ${status.vmid}, ${status.templateName}) is ready${pinned(ctx) ? ' (pinned: upstream updates are not built while spec.versions.pin is set)' : ''}${status.pendingRelease ? `; release ${status.pendingRelease} waits for approval (spec.updates.approvedRelease)` : ''}`;
  if (interval === 0) return done();
  const sinceCheck = ctx.now.getTime() - Date.parse(status.lastCheckedAt ?? kubeTime(ctx.now));
  return requeueAfter(Math.max(interval - sinceCheck, 1000));
};
