// Failed: waits for the retry time (or a spec change), then Pending resumes the build where it failed.
import { requeueAfter } from '../../../runtime/result.js';
import { enter, generationChanged, type PhaseHandler } from '../context.js';

export const failed: PhaseHandler = async (ctx) => {
  const retryAt = ctx.status.nextRetryAt ? Date.parse(ctx.status.nextRetryAt) : 0;
  if (!generationChanged(ctx) && retryAt > ctx.now.getTime()) return requeueAfter(retryAt - ctx.now.getTime());
  delete ctx.status.nextRetryAt;
  return enter(ctx, 'Pending');
};
