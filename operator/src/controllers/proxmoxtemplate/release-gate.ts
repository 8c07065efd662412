// The diff gate for images (issue 26): a build of a new upstream release waits for approval when its release class
// (against the active version's release) is not one spec.updates allows automatically. The active version stays.
import { kubeTime } from '@anvil/core/conditions';
import { classifyRelease, gateVerdict, type ReleaseClass } from '../../rollout/index.js';
import { C, condition, type TemplateContext } from './context.js';
import type { DesiredBuild } from './desired.js';

const DEFAULT_AUTO: readonly ReleaseClass[] = ['same', 'patch'];

/** True when the desired build may start; otherwise the status says which release waits and why. */
export function releaseAllowed(ctx: TemplateContext, desired: DesiredBuild): boolean {
  const { status, template } = ctx;
  const active = status.versions?.find((v) => v.version === status.activeVersion);
  // The first version, or versions from before releases were recorded: nothing to compare with.
  if (!active?.release || !desired.release) return approve(ctx);
  const release = classifyRelease(active.release, desired.release);
  const verdict = gateVerdict(
    { revision: desired.release, release, ...(template.spec.updates?.approvedRelease ? { approvedRevision: template.spec.updates.approvedRelease } : {}) },
    { autoApproveReleases: template.spec.updates?.autoApproveReleases ?? DEFAULT_AUTO },
  );
  if (verdict.verdict === 'allowed') return approve(ctx, `release ${desired.release} (${release} from ${active.release}): ${verdict.reason}`);
  const message = `release ${desired.release} (${release} from ${active.release}): ${verdict.reason.replace(`revision ${desired.release}`, `release ${desired.release}`)}; set spec.updates.approvedRelease: "${desired.release}" to build it`;
  if (status.pendingRelease !== desired.release) ctx.ports.event(template, 'Normal', 'UpdateNeedsApproval', message);
  status.pendingRelease = desired.release;
  status.lastCheckedAt = kubeTime(ctx.now);
  condition(ctx, { type: C.UpdateApproved, status: 'False', reason: 'NeedsApproval', message });
  return false;
}

function approve(ctx: TemplateContext, message = 'no release change to judge'): boolean {
  delete ctx.status.pendingRelease;
  condition(ctx, { type: C.UpdateApproved, status: 'True', reason: 'Allowed', message });
  return true;
}
