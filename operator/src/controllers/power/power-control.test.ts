import type { BareMetalHost, BareMetalHostStatus } from '@anvil/core/api';
import { FixtureDriver, FixtureMachine } from '../../power/fixture.js';
import { PowerError, type PowerDriver } from '../../power/driver.js';
import { defaultPowerControllerConfig, type PowerPorts } from './ports.js';
import { reconcilePower, type HostMemory } from './power-control.js';
import { done, requeueAfter } from '../../runtime/result.js';

class FakePorts implements PowerPorts {
  created = false;
  published = true;
  fresh: BareMetalHost | undefined;
  readonly events: { type: string; reason: string; note: string }[] = [];
  constructor(readonly driver: PowerDriver) {}
  async driverFor() {
    const created = !this.created;
    this.created = true;
    return { driver: this.driver, created };
  }
  async forgetDriver() {}
  async freshHost() {
    return this.fresh;
  }
  async installerPublished() {
    return this.published;
  }
  limit<T>(action: () => Promise<T>) {
    return action();
  }
  event(_h: BareMetalHost, type: 'Normal' | 'Warning', reason: string, note: string) {
    this.events.push({ type, reason, note });
  }
}

const config = { ...defaultPowerControllerConfig, pollIntervalMs: 60_000, afterActionPollMs: 5_000, backoffBaseMs: 1_000, backoffMaxMs: 8_000, softTimeoutMs: 30_000 };

function makeHost(spec: Partial<BareMetalHost['spec']> = {}, status: BareMetalHostStatus = {}): BareMetalHost {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name: 'node', namespace: 'lab', uid: 'u1', generation: 1 },
    spec: { bootMACAddress: '52:54:00:00:00:01', bmc: { address: 'ipmi://10.0.0.1' }, ...spec },
    status,
  };
}

const provisioning = (attempt: number, power?: BareMetalHostStatus['power']): BareMetalHostStatus => ({
  state: 'Provisioning',
  currentInstall: { attempt, revision: 1, installationId: `id-${attempt}`, startedAt: '2025-01-01T00:00:00.000Z' },
  ...(power ? { power } : {}),
});

async function run(host: BareMetalHost, ports: FakePorts, memory: HostMemory, now = new Date('2025-01-01T00:01:00Z')) {
  const status = structuredClone(host.status ?? {});
  ports.fresh ??= structuredClone({ ...host, status });
  const result = await reconcilePower({ host, status, now, ports, config, memory });
  return { status, result, delay: result.kind === 'requeueAfter' ? result.ms : undefined };
}

const cond = (s: BareMetalHostStatus, type: string) => s.conditions?.find((c) => c.type === type);

describe('power control', () => {
  it('power-cycles a new attempt into PXE once, and records it', async () => {
    const machine = new FixtureMachine();
    const ports = new FakePorts(new FixtureDriver(machine));
    const memory: HostMemory = { consecutiveErrors: 0 };
    const host = makeHost({}, provisioning(1, {}));
    const { status, result } = await run(host, ports, memory);
    expect(machine.calls).toEqual(['validate', 'powerState', 'setNextBootNetwork', 'powerOn']);
    expect(machine.boots).toEqual(['Network']);
    expect(status.power).toMatchObject({ state: 'Off', lastProvisioningAttempt: 1 });
    expect(result).toEqual(requeueAfter(config.afterActionPollMs));
    expect(cond(status, 'BMCReachable')?.status).toBe('True');
    expect(ports.events.map((e) => e.reason)).toEqual(['ProvisioningPowerCycle']);

    // Even if that status write was lost, this process does not cycle the attempt again.
    const again = await run(makeHost({}, provisioning(1, { state: 'On' })), ports, memory);
    expect(again.status.power?.lastProvisioningAttempt).toBe(1);
    expect(machine.boots).toEqual(['Network']);
  });

  it('decides on the API server copy: an attempt recorded there is not cycled again from a stale cache', async () => {
    const machine = new FixtureMachine();
    const ports = new FakePorts(new FixtureDriver(machine));
    const stale = makeHost({}, provisioning(1, {}));
    ports.fresh = makeHost({}, provisioning(1, { lastProvisioningAttempt: 1 }));
    const { status } = await run(stale, ports, { consecutiveErrors: 0 });
    expect(machine.calls).not.toContain('powerOn');
    expect(status.power?.lastProvisioningAttempt).toBe(1);
  });

  it('waits until the installer of the attempt is published, and resets a machine that is on', async () => {
    const machine = new FixtureMachine();
    machine.power = 'On';
    const ports = new FakePorts(new FixtureDriver(machine));
    ports.published = false;
    const memory: HostMemory = { consecutiveErrors: 0 };
    const host = makeHost({}, provisioning(2, {}));
    const first = await run(host, ports, memory);
    expect(first.delay).toBeLessThanOrEqual(2_000);
    expect(machine.calls).not.toContain('reset:Hard');
    ports.published = true;
    await run(host, ports, memory);
    expect(machine.calls.slice(-2)).toEqual(['setNextBootNetwork', 'reset:Hard']);
  });

  it('records a reboot request and an install already running when it first sees a host, without acting', async () => {
    const machine = new FixtureMachine();
    machine.power = 'On';
    const ports = new FakePorts(new FixtureDriver(machine));
    const host = makeHost({ reboot: { requestId: 'old', mode: 'Hard' } }, { state: 'Installing', currentInstall: { attempt: 3, revision: 1, installationId: 'i', startedAt: '2025-01-01T00:00:00Z' } });
    const { status } = await run(host, ports, { consecutiveErrors: 0 });
    expect(status.power).toMatchObject({ lastRebootRequestId: 'old', lastProvisioningAttempt: 3, state: 'On' });
    expect(machine.calls).toEqual(['validate', 'powerState']);
  });

  it('carries out a new reboot request once (Soft without OS restart support: shutdown, then power on)', async () => {
    const machine = new FixtureMachine();
    machine.power = 'On';
    const ports = new FakePorts(new FixtureDriver(machine));
    const host = makeHost({ reboot: { requestId: 'r2' } }, { state: 'Provisioned', power: { state: 'On', lastRebootRequestId: 'r1' } });
    const { status } = await run(host, ports, { consecutiveErrors: 0 });
    expect(machine.calls.slice(2)).toEqual(['powerState', 'powerOff:Soft', 'powerState', 'powerOn']);
    expect(status.power?.lastRebootRequestId).toBe('r2');
    expect(ports.events.at(-1)).toMatchObject({ reason: 'Rebooted', note: 'reboot request r2 (Soft): power-cycled' });
  });

  it('enforces spec.online=false: soft shutdown first, power cut after the grace period', async () => {
    const machine = new FixtureMachine();
    machine.power = 'On';
    machine.ignoresSoftOff = true;
    const ports = new FakePorts(new FixtureDriver(machine));
    const memory: HostMemory = { consecutiveErrors: 0 };
    const host = makeHost({ online: false }, { power: { state: 'On' } });
    const t0 = new Date('2025-01-01T00:00:00Z');
    await run(host, ports, memory, t0);
    expect(machine.calls.at(-1)).toBe('powerOff:Soft');
    await run(host, ports, memory, new Date(t0.getTime() + 10_000));
    expect(machine.calls.at(-1)).toBe('powerState');
    await run(host, ports, memory, new Date(t0.getTime() + config.softTimeoutMs));
    expect(machine.calls.at(-1)).toBe('powerOff:Hard');
    expect(machine.power).toBe('Off');
  });

  it('backs off exponentially on BMC errors, reports them, and tries at once after a spec change', async () => {
    const machine = new FixtureMachine();
    machine.failure = new PowerError('Unauthorized', 'the BMC refused the password');
    const ports = new FakePorts(new FixtureDriver(machine));
    const memory: HostMemory = { consecutiveErrors: 0 };
    const host = makeHost({}, { power: { state: 'On', observedAt: '2025-01-01T00:00:00Z' } });
    let now = new Date('2025-01-01T00:01:00Z').getTime();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { status, delay } = await run(host, ports, memory, new Date(now));
      expect(cond(status, 'CredentialsValid')).toMatchObject({ status: 'False', reason: 'Unauthorized', message: 'the BMC refused the password' });
      expect(status.power).toMatchObject({ state: 'Unknown', error: 'the BMC refused the password' });
      delays.push(delay!);
      now += delay!;
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
    // Within the backoff the BMC is left alone.
    const calls = machine.calls.length;
    const within = await run(host, ports, memory, new Date(now - 1));
    expect(within.delay).toBeGreaterThan(0);
    expect(machine.calls.length).toBe(calls);
    // A spec change (new generation) is tried at once; success clears the error and the backoff.
    machine.failure = undefined;
    const fixed = makeHost({}, { power: { state: 'Unknown', error: 'x' } });
    fixed.metadata.generation = 2;
    const ok = await run(fixed, ports, memory, new Date(now - 1));
    expect(ok.status.power?.error).toBeUndefined();
    expect(cond(ok.status, 'CredentialsValid')?.status).toBe('True');
    expect(memory.consecutiveErrors).toBe(0);
  });

  it('Wake-on-LAN: power state Unknown, credentials not required, power on only', async () => {
    const machine = new FixtureMachine();
    const ports = new FakePorts(new FixtureDriver(machine, { readPowerState: false, powerOff: false, reset: false, softReset: false, bootOnce: false }));
    const host = makeHost({ bmc: { address: 'wol://' } }, provisioning(1, {}));
    const { status } = await run(host, ports, { consecutiveErrors: 0 });
    expect(machine.calls).toEqual(['validate', 'powerState', 'powerOn']);
    expect(status.power?.state).toBe('Unknown');
    expect(cond(status, 'BMCReachable')).toMatchObject({ status: 'Unknown', reason: 'NoFeedback' });
    expect(cond(status, 'CredentialsValid')).toMatchObject({ status: 'True', reason: 'NotRequired' });
  });

  it('removes its conditions when spec.bmc goes away', async () => {
    const ports = new FakePorts(new FixtureDriver());
    const host = makeHost({}, { conditions: [{ type: 'BMCReachable', status: 'True', reason: 'Reachable', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' }, { type: 'Ready', status: 'True', reason: 'Valid', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' }] });
    delete host.spec.bmc;
    const { status } = await run(host, ports, { consecutiveErrors: 0 });
    expect(status.conditions?.map((c) => c.type)).toEqual(['Ready']);
  });
});

describe('hosts without spec.bmc', () => {
  it('are left untouched', async () => {
    const ports = new FakePorts(new FixtureDriver());
    const host = makeHost({}, {});
    delete host.spec.bmc;
    const { status, result } = await run(host, ports, { consecutiveErrors: 0 });
    expect(status).toEqual({});
    expect(result).toEqual(done());
  });
});
