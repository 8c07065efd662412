import { sha256Hex } from '@anvil/core/bootconfig';
// The BareMetalHost state machine through a host's life: validation, the install, reinstalls, cancelling, discovery.
import { discoveredHost, HostSim, simHost } from './testing/host-sim.js';

describe('BareMetalHost state machine: install lifecycle', () => {
  it('installs once: Pending -> Ready -> Provisioning -> Installing -> Provisioned, then boots locally', async () => {
    const sim = new HostSim(simHost());
    await sim.step();
    expect(sim.status.state).toBe('Provisioning');
    expect(sim.status.currentInstall).toMatchObject({ attempt: 1, revision: 1 });
    expect(sim.published()?.mode).toBe('install');
    expect(sim.published()?.ipxe).toContain('ds=nocloud-net;s=http://boot.test:8080/nocloud/52-54-00-12-34-01/token-1/');
    const installationId = sim.status.currentInstall!.installationId;

    await sim.step(); // still waiting: token and installation stay the same
    expect(sim.published()?.install?.token).toBe('token-1');
    expect(sim.status.currentInstall!.installationId).toBe(installationId);

    sim.advance(5000);
    sim.boot();
    await sim.step();
    expect(sim.status.state).toBe('Installing');
    sim.advance(60_000);
    sim.finish('SUCCESS');
    await sim.step();
    expect(sim.status.state).toBe('Provisioned');
    expect(sim.status.provisionedRevision).toBe(1);
    expect(sim.published()?.mode).toBe('local');
    expect(sim.published()?.install).toBeUndefined(); // the token is gone
    expect(sim.status.recentInstalls?.[0]).toMatchObject({ attempt: 1, revision: 1, result: 'SUCCESS', durationSeconds: 65, reason: 'Succeeded' });
    expect(sim.status.conditions?.find((c) => c.type === 'Provisioned')?.status).toBe('True');

    // Nothing changes by itself afterwards, not even when the template renders differently.
    sim.ports.renderOutcome = () => ({ ok: false, errorType: 'TemplateError', reason: 'TemplateError', message: 'broken' });
    await sim.step();
    expect(sim.status.state).toBe('Provisioned');
    expect(sim.published()?.mode).toBe('local');
  });

  it('reinstalls when spec.provisioning.revision is bumped, as the next attempt of the host', async () => {
    const sim = new HostSim(simHost());
    await sim.step();
    sim.boot();
    await sim.step();
    sim.finish('SUCCESS');
    await sim.step();
    sim.setHost(simHost({ provisioning: { revision: 2, allowed: true, timeoutSeconds: 600, maxRetries: 2 } }));
    await sim.step();
    expect(sim.status.state).toBe('Provisioning');
    expect(sim.status.currentInstall).toMatchObject({ attempt: 2, revision: 2 });
    expect(sim.status.retry?.count).toBe(0);
    expect(sim.published()?.mode).toBe('install');
    expect(sim.published()?.install?.token).toBe('token-2');
  });

  it('refuses a duplicate MAC on the younger host and leaves the older one alone', async () => {
    const older = simHost({}, 'node-01', '2026-01-01T00:00:00Z');
    const younger = simHost({}, 'node-02', '2026-01-01T00:01:00Z');
    const a = new HostSim(older);
    const b = new HostSim(younger);
    a.ports.hosts = b.ports.hosts = [older, younger];
    await b.step();
    expect(b.status.state).toBe('Pending');
    expect(b.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'DuplicateMAC' });
    expect(b.status.errorMessage).toContain('already used by BareMetalHost lab/node-01');
    expect(b.published()).toBeUndefined();
    await a.step();
    expect(a.status.state).toBe('Provisioning');
  });

  it('lets a declared host have the MAC of an older host without a template (a Discovered one not accepted)', async () => {
    const discovered = simHost({ templateRef: undefined }, 'discovered-525400123401', '2026-01-01T00:00:00Z');
    const declared = simHost({}, 'node-02', '2026-01-01T00:01:00Z');
    const sim = new HostSim(declared);
    sim.ports.hosts = [discovered, declared];
    await sim.step();
    expect(sim.status.state).toBe('Provisioning');
  });

  it('records the template content (and its revision number) each attempt installs, kept in recentInstalls', async () => {
    const sim = new HostSim(simHost());
    const chainHash = `sha256:${sha256Hex('ubuntu')}`;
    sim.ports.revisions.set(chainHash, 4);
    await sim.step();
    expect(sim.status.currentInstall?.template).toEqual({ name: 'ubuntu', contentHash: chainHash, revision: 4 });
    sim.boot();
    await sim.step();
    sim.finish('SUCCESS');
    await sim.step();
    expect(sim.status.recentInstalls?.[0]?.template).toEqual({ name: 'ubuntu', contentHash: chainHash, revision: 4 });
  });

  it('reports template errors in status and publishes nothing', async () => {
    const sim = new HostSim(simHost());
    sim.ports.renderOutcome = () => ({ ok: false, errorType: 'TemplateError', reason: 'UndefinedVariable', message: 'userData: undefined variable "passwordHash" (line 9)' });
    const wait = await sim.step();
    expect(sim.status.state).toBe('Pending');
    expect(wait).toBe(60_000);
    expect(sim.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'UndefinedVariable' });
    expect(sim.status.errorMessage).toContain('passwordHash');
    expect(sim.published()).toBeUndefined();
  });

  it('does not install when not allowed, and cancels an install in progress', async () => {
    const sim = new HostSim(simHost({ provisioning: { revision: 1, allowed: false } }));
    await sim.step();
    expect(sim.status.state).toBe('Ready');
    expect(sim.published()?.mode).toBe('local');
    sim.setHost(simHost());
    await sim.step();
    expect(sim.status.state).toBe('Provisioning');
    sim.h = simHost({ provisioning: { revision: 1, allowed: false } });
    await sim.step();
    expect(sim.status.state).toBe('Ready');
    expect(sim.published()?.mode).toBe('local');
  });

  it('keeps Discovered hosts until they get a template', async () => {
    const sim = new HostSim(discoveredHost());
    await sim.step();
    expect(sim.status.state).toBe('Discovered');
    expect(sim.published()).toBeUndefined();
    sim.setHost(simHost());
    await sim.step();
    expect(sim.status.state).toBe('Provisioning');
  });
});
