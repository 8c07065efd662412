// The BareMetalHost state machine as a table of state -> handler (after metal3's host_state_machine), one file per
// state in states/. Handlers read the host, change the status draft, publish boot config through the ports, and say
// what comes next (a ReconcileResult). They never talk to Kubernetes directly and are unit-tested with fakes.
import type { BareMetalHostState } from '@anvil/core/api';
import { commitThenContinue, done, type ReconcileResult } from '../../runtime/result.js';
import type { HostContext, StateHandler } from './host-context.js';
import { discovered } from './states/discovered.js';
import { failed } from './states/failed.js';
import { installing } from './states/installing.js';
import { pending } from './states/pending.js';
import { provisioned } from './states/provisioned.js';
import { provisioning } from './states/provisioning.js';
import { ready } from './states/ready.js';

export type { HostContext, StateHandler } from './host-context.js';

/** Deleting is handled by the controller's finalizer path (it removes the boot config) before the table is consulted. */
const deleting: StateHandler = async () => done();

export const stateHandlers: Readonly<Record<BareMetalHostState, StateHandler>> = {
  Pending: pending,
  Discovered: discovered,
  Ready: ready,
  Provisioning: provisioning,
  Installing: installing,
  Provisioned: provisioned,
  Failed: failed,
  Deleting: deleting,
};

/**
 * Runs handlers until the state settles (bounded), so one reconcile can go Pending -> Ready -> Provisioning. A
 * handler's commitThenContinue (a new attempt to save before acting on it) stops the run there.
 */
export async function runStateMachine(ctx: HostContext, maxTransitions = 5): Promise<ReconcileResult> {
  for (let i = 0; i < maxTransitions; i++) {
    const before = ctx.status.state ?? 'Pending';
    ctx.status.state = before;
    const result = await stateHandlers[before](ctx);
    if (result.kind === 'commitThenContinue' || ctx.status.state === before) return result;
  }
  return commitThenContinue();
}
