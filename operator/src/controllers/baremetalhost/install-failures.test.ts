// The BareMetalHost state machine when installs fail: retries with backoff, timeouts, nested failures, wrong clocks.
import { HostSim, simHost } from './testing/host-sim.js';

describe('BareMetalHost state machine: failed installs', () => {
  it('retries a failed install with exponential backoff, then gives up with a clear message', async () => {
    const sim = new HostSim(simHost());
    await sim.step();
    sim.boot();
    await sim.step();
    sim.finish('FAIL', 'curtin command failed');
    let wait = await sim.step();
    expect(sim.status.state).toBe('Failed');
    expect(wait).toBe(1000);
    expect(sim.status.retry?.count).toBe(1);
    expect(sim.published()?.mode).toBe('local'); // no reinstall loop while waiting
    expect(sim.status.errorType).toBe('InstallFailed');
    expect(sim.status.errorMessage).toContain('curtin command failed');

    sim.advance(500);
    expect(await sim.step()).toBe(500); // not yet
    sim.advance(500);
    await sim.step();
    expect(sim.status.state).toBe('Provisioning');
    expect(sim.status.currentInstall?.attempt).toBe(2);

    sim.boot();
    await sim.step();
    sim.finish('FAIL');
    wait = await sim.step();
    expect(wait).toBe(2000); // doubled
    sim.advance(2000);
    await sim.step();
    expect(sim.status.currentInstall?.attempt).toBe(3);
    sim.boot();
    await sim.step();
    sim.finish('FAIL');
    wait = await sim.step();
    expect(wait).toBeUndefined();
    expect(sim.status.state).toBe('Failed');
    expect(sim.status.errorMessage).toMatch(/failed after 3 attempt\(s\).*Bump spec.provisioning.revision/);
    expect(sim.status.conditions?.find((c) => c.type === 'Provisioned')?.reason).toBe('RetriesExhausted');
    expect(sim.status.recentInstalls?.map((r) => r.result)).toEqual(['FAIL', 'FAIL', 'FAIL']);
  });

  it('fails an attempt when the machine never boots within the timeout', async () => {
    const sim = new HostSim(simHost());
    const wait = await sim.step();
    expect(wait).toBe(600_000);
    sim.advance(600_000);
    await sim.step();
    expect(sim.status.state).toBe('Failed');
    expect(sim.status.errorType).toBe('InstallTimeout');
  });

  it('a nested failure marks the install failing; the top-level FAIL ends it with the deepest failure as the reason', async () => {
    const sim = new HostSim(simHost());
    await sim.step();
    sim.boot();
    await sim.step();
    sim.failing('partitioning', 'wipefs: /dev/sda is busy');
    await sim.step();
    expect(sim.status.state).toBe('Installing');
    expect(sim.status.conditions?.find((c) => c.type === 'Installing')).toMatchObject({ status: 'True', reason: 'InstallerFailing', message: expect.stringContaining('partitioning') });
    sim.finish('FAIL', 'ignored: the failure is already known');
    await sim.step();
    expect(sim.status.state).toBe('Failed');
    expect(sim.status.errorMessage).toContain('partitioning: wipefs: /dev/sda is busy');
    expect(sim.status.recentInstalls?.[0]).toMatchObject({ result: 'FAIL', reason: 'InstallerFailed', failedStage: 'partitioning', message: expect.stringContaining('wipefs') });
  });

  it('counts installer activity by the server\'s clock: an installer clock years ahead neither stalls nor spins the timeout', async () => {
    const sim = new HostSim(simHost());
    await sim.step();
    sim.boot();
    await sim.step();
    const ci = sim.status.currentInstall!;
    ci.lastEvent = { name: 'subiquity/Install/install/extract', type: 'start', time: '9999-12-31T23:59:59.000Z', receivedAt: sim.now.toISOString() };
    const wait = await sim.step();
    expect(wait).toBe(600_000);
    sim.advance(600_001);
    await sim.step();
    expect(sim.status.state).toBe('Failed');
    expect(sim.status.errorMessage).toMatch(/no progress from the installer for 600 s/);
  });
});
