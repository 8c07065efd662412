// The conditions that follow from the rest of the status (Ready and Building), set after every run of the phases.
import { C, condition, type TemplateContext } from './context.js';

export function summarize(ctx: TemplateContext): void {
  const { status } = ctx;
  const pin = ctx.template.spec.versions?.pin;
  const active = status.versions?.find((v) => v.version === status.activeVersion);
  if (pin !== undefined && status.versions?.length && !status.versions.some((v) => v.version === pin)) {
    const kept = status.versions.map((v) => v.version).join(', ');
    condition(ctx, { type: C.Ready, status: 'False', reason: 'PinnedVersionNotFound', message: `spec.versions.pin is ${pin} but the kept versions are ${kept}; version ${status.activeVersion} stays active` });
  } else if (active) {
    condition(ctx, { type: C.Ready, status: 'True', reason: 'TemplateReady', message: `version ${active.version} is template ${active.name} (VMID ${active.vmid})` });
  } else {
    const failed = status.phase === 'Failed';
    condition(ctx, { type: C.Ready, status: 'False', reason: failed ? 'BuildFailed' : 'NoTemplateYet', message: failed ? (status.message ?? '') : 'the first version is not built yet' });
  }
  const build = status.build;
  if (build && status.phase !== 'Failed') {
    condition(ctx, { type: C.Building, status: 'True', reason: status.phase ?? 'Pending', message: `version ${build.version}: step ${build.step}${status.currentTask ? ` (task ${status.currentTask.upid})` : ''}` });
  } else if (!build && status.phase !== 'Failed') {
    condition(ctx, { type: C.Building, status: 'False', reason: 'Idle', message: 'no build in progress' });
  }
}
