// The state table against the API: a handler for exactly the states a host can be in, and no state nothing enters.
import { BAREMETALHOST_STATES } from '@anvil/core/api';
import { commitThenContinue, requeueAfter } from '../../runtime/result.js';
import { runStateMachine, stateHandlers, type HostContext } from './states.js';
import { discoveredHost, HostSim, simConfig, simHost } from './testing/host-sim.js';

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

describe('BareMetalHost state table', () => {
  it('has a handler for exactly the states of the API', () => {
    expect(sorted(Object.keys(stateHandlers))).toEqual(sorted(BAREMETALHOST_STATES));
  });

  it('enters every state of the API (Deleting through the controller\'s finalizer path): no dead state', async () => {
    const installed = new HostSim(discoveredHost());
    await installed.step();
    installed.setHost(simHost());
    await installed.step();
    installed.boot();
    await installed.step();
    installed.finish('SUCCESS');
    await installed.step();
    const neverBooted = new HostSim(simHost());
    await neverBooted.step();
    neverBooted.advance(600_000);
    await neverBooted.step();
    // A valid host that is not to be installed rests in Ready (one that is goes on to its install in the same step).
    const idle = new HostSim(simHost({ provisioning: { revision: 1, allowed: false } }));
    await idle.step();

    // Every host starts in Pending; Deleting is entered by the reconciler before the table is consulted.
    const entered = new Set(['Pending', 'Deleting', ...installed.statesEntered(), ...neverBooted.statesEntered(), ...idle.statesEntered()]);
    expect(sorted(entered)).toEqual(sorted(BAREMETALHOST_STATES));
  });
});

describe('runStateMachine', () => {
  const contextOf = (sim: HostSim): HostContext => ({ host: sim.h, status: sim.status, now: sim.now, ports: sim.ports, config: simConfig });

  it('stops at a new attempt so that it is committed before anything is published for it', async () => {
    const sim = new HostSim(simHost());
    expect(await runStateMachine(contextOf(sim))).toEqual(commitThenContinue());
    expect(sim.status.state).toBe('Provisioning');
    expect(sim.status.currentInstall?.attempt).toBe(1);
    expect(sim.published()).toBeUndefined();

    expect(await runStateMachine(contextOf(sim))).toEqual(requeueAfter(600_000));
    expect(sim.published()?.install?.installationId).toBe(sim.status.currentInstall?.installationId);
  });

  it('runs a bounded number of transitions, then continues in the next reconcile', async () => {
    const sim = new HostSim(simHost({ provisioning: { revision: 1, allowed: false } }));
    expect(await runStateMachine(contextOf(sim), 1)).toEqual(commitThenContinue());
    expect(sim.status.state).toBe('Ready');
  });

  it('goes from Pending straight to the first install: one Event, no stop at Ready', async () => {
    const sim = new HostSim(simHost());
    await sim.step();
    expect(sim.status.state).toBe('Provisioning');
    expect(sim.statesEntered()).toEqual(['Provisioning']);
  });
});
