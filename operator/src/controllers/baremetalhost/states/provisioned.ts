// Provisioned: installed; the host boots from its disk until spec.provisioning.revision asks for a reinstall.
import { done } from '../../../runtime/result.js';
import { startAttemptIfValid, wantsInstall } from '../attempts.js';
import type { StateHandler } from '../host-context.js';
import { publishLocalBoot } from '../publish-boot-config.js';

export const provisioned: StateHandler = async (ctx) => {
  if (wantsInstall(ctx)) return startAttemptIfValid(ctx, false);
  await publishLocalBoot(ctx, `provisioned (revision ${ctx.status.provisionedRevision})`);
  return done();
};
