// Discovered: seen on the network by the boot-server, declared by nobody; waits for a spec.templateRef.
import { done } from '../../../runtime/result.js';
import { transition, type StateHandler } from '../host-context.js';

export const discovered: StateHandler = async (ctx) => {
  if (ctx.host.spec.templateRef?.name) transition(ctx, 'Pending', 'template assigned');
  return done();
};
