// Pending decides: the kept version that matches the spec and upstream (Ready), the failed build to resume, or a new
// build (Downloading). A build decided here is committed before any of its steps acts on it.
import { kubeTime } from '@anvil/core/conditions';
import { commitThenContinue } from '../../../runtime/result.js';
import { abandonBuild, phaseOfStep, resumeBuild, startBuild } from '../build.js';
import { enter, pinned, type PhaseHandler } from '../context.js';
import { buildMatches, desiredBuild, versionMatches } from '../desired.js';
import { releaseAllowed } from '../release-gate.js';
import { activate, adoptExisting } from '../versions.js';

export const pending: PhaseHandler = async (ctx) => {
  const { status } = ctx;
  const desired = await desiredBuild(ctx);
  status.lastCheckedAt = kubeTime(ctx.now);
  if (!status.versions?.length) await adoptExisting(ctx);
  const match = [...(status.versions ?? [])].reverse().find((v) => versionMatches(v, desired));
  if (!match && pinned(ctx) && status.versions?.length && !status.build) {
    activate(ctx);
    return enter(ctx, 'Ready');
  }
  if (match) {
    if (status.build) await abandonBuild(ctx, `version ${match.version} already matches the spec`);
    activate(ctx);
    return enter(ctx, 'Ready');
  }
  // A new upstream release may need a person's approval first: the active version stays meanwhile.
  if (status.versions?.length && !releaseAllowed(ctx, desired)) {
    if (status.build) await abandonBuild(ctx, `release ${desired.release} waits for approval`);
    activate(ctx);
    return enter(ctx, 'Ready');
  }
  if (status.build && buildMatches(status.build, desired)) {
    await resumeBuild(ctx, status.build);
    enter(ctx, phaseOfStep(status.build));
    return commitThenContinue();
  }
  if (status.build) await abandonBuild(ctx, 'the spec or the upstream image changed');
  await startBuild(ctx, desired);
  enter(ctx, 'Downloading');
  return commitThenContinue();
};
