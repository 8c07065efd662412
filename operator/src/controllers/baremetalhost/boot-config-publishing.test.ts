// The BareMetalHost state machine's boot config: rendered once per attempt's inputs, kept for an attempt under way,
// withdrawn when unsafe, the finished attempt's webhook credentials kept until the machine boots again.
import { HostSim, simHost } from './testing/host-sim.js';

describe('BareMetalHost state machine: publishing boot config', () => {
  it('renders an attempt once while its inputs are unchanged, and again (same token) when they change', async () => {
    const sim = new HostSim(simHost());
    let inputsVersion = 1;
    sim.ports.inputs = (h, install) => `${h.metadata.uid}/${install.installationId}/${install.token}/v${inputsVersion}`;
    await sim.step();
    expect(sim.status.state).toBe('Provisioning');
    const rendersAfterStart = sim.ports.renders; // the validation and the attempt
    const published = sim.published();
    const statusBefore = structuredClone(sim.status);

    for (let i = 0; i < 3; i++) await sim.step(); // resyncs: nothing to render, nothing to publish, nothing to write
    expect(sim.ports.renders).toBe(rendersAfterStart);
    expect(sim.published()).toBe(published);
    expect(sim.status).toEqual(statusBefore);

    inputsVersion = 2; // e.g. a referenced Secret changed
    await sim.step();
    expect(sim.ports.renders).toBe(rendersAfterStart + 1);
    expect(sim.published()).not.toBe(published);
    expect(sim.published()?.install?.token).toBe(published?.install?.token);
    expect(sim.published()?.install?.inputsHash).toMatch(/\/v2$/);
    expect(sim.status.bootConfig?.hash).not.toBe(statusBefore.bootConfig?.hash);

    // Without a fingerprint (inputs unknown), every reconcile renders: never skipped on a guess.
    sim.ports.inputs = () => undefined;
    await sim.step();
    await sim.step();
    expect(sim.ports.renders).toBe(rendersAfterStart + 3);
  });

  it('processes the verdict of an attempt whose template broke meanwhile: no render, no reinstall loop', async () => {
    const sim = new HostSim(simHost());
    await sim.step();
    expect(sim.status.state).toBe('Provisioning');
    const publishedForAttempt = sim.published();
    // The template stops rendering while the host waits; the installer still finishes (it was already running).
    sim.ports.renderOutcome = () => ({ ok: false, errorType: 'TemplateError', reason: 'TemplateError', message: 'unknown variable x' });
    sim.ports.inputs = () => 'changed';
    const renders = sim.ports.renders;
    sim.finish('SUCCESS');
    await sim.step();
    expect(sim.status.state).toBe('Provisioned');
    expect(sim.ports.renders).toBe(renders); // the verdict rendered nothing
    expect(sim.published()?.mode).toBe('local');
    expect(sim.published()?.closedInstall?.installationId).toBe(publishedForAttempt?.install?.installationId);
  });

  it('keeps the published boot config of an attempt the machine is running, whatever the template does', async () => {
    const sim = new HostSim(simHost());
    await sim.step();
    const before = sim.published();
    sim.boot();
    sim.ports.inputs = () => 'changed';
    sim.ports.renderOutcome = () => ({ ok: false, errorType: 'TemplateError', reason: 'TemplateError', message: 'broken' });
    await sim.step();
    expect(sim.status.state).toBe('Installing');
    expect(sim.published()).toBe(before);
    await sim.step();
    expect(sim.published()).toBe(before);
  });

  it('a re-render that fails while the host waits to boot keeps the attempt\'s config and says why', async () => {
    const sim = new HostSim(simHost());
    sim.ports.inputs = () => 'v1';
    await sim.step();
    const before = sim.published();
    sim.ports.inputs = () => 'v2';
    sim.ports.renderOutcome = () => ({ ok: false, errorType: 'TemplateError', reason: 'TemplateError', message: 'broken' });
    await sim.step();
    expect(sim.status.state).toBe('Provisioning');
    expect(sim.published()).toBe(before);
    expect(sim.status.conditions?.find((c) => c.type === 'BootConfigReady')).toMatchObject({ status: 'True', reason: 'KeptForAttempt', message: expect.stringContaining('broken') });
  });

  it('keeps the finished attempt\'s webhook credentials published until the machine boots again', async () => {
    const sim = new HostSim(simHost());
    await sim.step();
    const attempt = sim.published()!.install!;
    sim.boot();
    await sim.step();
    sim.advance(1000);
    sim.finish('SUCCESS');
    await sim.step();
    expect(sim.published()).toMatchObject({ mode: 'local', closedInstall: { installationId: attempt.installationId, tokenSha256: attempt.tokenSha256 } });
    expect(JSON.stringify(sim.published())).not.toContain(attempt.token); // only the hash
    await sim.step();
    expect(sim.published()?.closedInstall).toBeDefined();
    sim.advance(1000);
    sim.boot();
    await sim.step();
    expect(sim.published()?.mode).toBe('local');
    expect(sim.published()?.closedInstall).toBeUndefined();
  });

  it('keeps them when the machine booted earlier within the same second as the verdict (a fast install)', async () => {
    const sim = new HostSim(simHost());
    await sim.step();
    const attempt = sim.published()!.install!;
    sim.boot(); // 00:00:00.001
    await sim.step();
    sim.advance(400);
    sim.finish('FAIL'); // processed at 00:00:00.401: the closing time must not be rounded down to before the boot
    await sim.step();
    expect(sim.published()).toMatchObject({ mode: 'local', closedInstall: { installationId: attempt.installationId } });
  });

  it('withdraws a published config that carries a plain-text password when the attempt renders again', async () => {
    const sim = new HostSim(simHost());
    sim.ports.inputs = () => 'v1';
    await sim.step();
    sim.ports.inputs = () => 'v2';
    sim.ports.renderOutcome = () => ({ ok: false, errorType: 'ValidationError', reason: 'InvalidInstallerConfig', message: 'userData: autoinstall.identity.password: is a plain-text password, which anvil never publishes' });
    await sim.step();
    expect(sim.published()?.mode).toBe('local');
    expect(sim.status.conditions?.find((c) => c.type === 'BootConfigReady')).toMatchObject({ status: 'False', reason: 'InvalidInstallerConfig' });
  });
});
