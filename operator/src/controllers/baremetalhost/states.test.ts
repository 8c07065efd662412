import type { BareMetalHost, BareMetalHostStatus } from '../../../../shared/src/api/index.js';
import { FixtureHostPorts } from './fixture-ports.js';
import { runStateMachine, type HostContext } from './states.js';

const config = { retryBaseMs: 1000, retryMaxMs: 60_000 };

function host(overrides: Partial<BareMetalHost['spec']> = {}, name = 'node-01', created = '2026-01-01T00:00:00Z'): BareMetalHost {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name, namespace: 'lab', uid: `uid-${name}`, generation: 1, creationTimestamp: created },
    spec: { bootMACAddress: '52:54:00:12:34:01', templateRef: { name: 'ubuntu' }, provisioning: { revision: 1, allowed: true, timeoutSeconds: 600, maxRetries: 2 }, ...overrides },
  } as BareMetalHost;
}

class Sim {
  status: BareMetalHostStatus = {};
  now = new Date('2026-01-02T00:00:00Z');
  readonly ports = new FixtureHostPorts();
  constructor(public h: BareMetalHost) {
    this.ports.hosts = [h];
  }
  /** One reconcile as the controller runs it: a committed decision (new attempt) is saved and run again at once. */
  async step(): Promise<number | undefined> {
    for (;;) {
      const ctx: HostContext = { host: this.h, status: this.status, now: this.now, ports: this.ports, config };
      const result = await runStateMachine(ctx);
      if (!ctx.commitFirst) return result.requeueAfterMs;
      expect(result.requeueAfterMs).toBe(1);
    }
  }
  advance(ms: number) {
    this.now = new Date(this.now.getTime() + ms);
  }
  /** What the boot-server writes when the machine fetches its script and the installer reports. */
  boot() {
    this.advance(1);
    this.status.lastBootRequest = { time: this.now.toISOString(), clientIP: '10.0.0.5', path: '/boot.ipxe', served: 'InstallScript' };
  }
  finish(result: 'SUCCESS' | 'FAIL', description = 'done') {
    const ci = this.status.currentInstall!;
    ci.lastEvent = { name: 'subiquity/Install/install', type: 'finish', result, description: 'installing system', time: this.now.toISOString() };
    if (result === 'FAIL') ci.failure ??= { stage: 'curthooks', reason: description, event: 'cmd-install/stage-curthooks' };
    ci.result = result;
  }
  /** A nested step failed: the boot-server records the failure, the installer has not given its verdict yet. */
  failing(stage: string, reason: string) {
    this.status.currentInstall!.failure = { stage, reason, event: `subiquity/Install/install/${stage}` };
    this.status.currentInstall!.lastEvent = { name: 'subiquity/Install/install/late', type: 'start', time: this.now.toISOString() };
  }
  published() {
    return this.ports.publishedBootConfig(this.h);
  }
}

describe('BareMetalHost state machine', () => {
  it('installs once: Pending -> Ready -> Provisioning -> Installing -> Provisioned, then boots locally', async () => {
    const sim = new Sim(host());
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
    const sim = new Sim(host());
    await sim.step();
    sim.boot();
    await sim.step();
    sim.finish('SUCCESS');
    await sim.step();
    sim.h = host({ provisioning: { revision: 2, allowed: true, timeoutSeconds: 600, maxRetries: 2 } });
    sim.ports.hosts = [sim.h];
    await sim.step();
    expect(sim.status.state).toBe('Provisioning');
    expect(sim.status.currentInstall).toMatchObject({ attempt: 2, revision: 2 });
    expect(sim.status.retry?.count).toBe(0);
    expect(sim.published()?.mode).toBe('install');
    expect(sim.published()?.install?.token).toBe('token-2');
  });

  it('retries a failed install with exponential backoff, then gives up with a clear message', async () => {
    const sim = new Sim(host());
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
    const sim = new Sim(host());
    const wait = await sim.step();
    expect(wait).toBe(600_000);
    sim.advance(600_000);
    await sim.step();
    expect(sim.status.state).toBe('Failed');
    expect(sim.status.errorType).toBe('InstallTimeout');
  });

  it('refuses a duplicate MAC on the younger host and leaves the older one alone', async () => {
    const older = host({}, 'node-01', '2026-01-01T00:00:00Z');
    const younger = host({}, 'node-02', '2026-01-01T00:01:00Z');
    const a = new Sim(older);
    const b = new Sim(younger);
    a.ports.hosts = b.ports.hosts = [older, younger];
    await b.step();
    expect(b.status.state).toBe('Pending');
    expect(b.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'DuplicateMAC' });
    expect(b.status.errorMessage).toContain('already used by BareMetalHost lab/node-01');
    expect(b.published()).toBeUndefined();
    await a.step();
    expect(a.status.state).toBe('Provisioning');
  });

  it('reports template errors in status and publishes nothing', async () => {
    const sim = new Sim(host());
    sim.ports.renderOutcome = () => ({ ok: false, errorType: 'TemplateError', reason: 'UndefinedVariable', message: 'userData: undefined variable "passwordHash" (line 9)' });
    const wait = await sim.step();
    expect(sim.status.state).toBe('Pending');
    expect(wait).toBe(60_000);
    expect(sim.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'UndefinedVariable' });
    expect(sim.status.errorMessage).toContain('passwordHash');
    expect(sim.published()).toBeUndefined();
  });

  it('does not install when not allowed, and cancels an install in progress', async () => {
    const sim = new Sim(host({ provisioning: { revision: 1, allowed: false } }));
    await sim.step();
    expect(sim.status.state).toBe('Ready');
    expect(sim.published()?.mode).toBe('local');
    sim.h = host();
    sim.ports.hosts = [sim.h];
    await sim.step();
    expect(sim.status.state).toBe('Provisioning');
    sim.h = host({ provisioning: { revision: 1, allowed: false } });
    await sim.step();
    expect(sim.status.state).toBe('Ready');
    expect(sim.published()?.mode).toBe('local');
  });

  it('keeps Discovered hosts until they get a template', async () => {
    const h = host({ templateRef: undefined as never });
    delete (h.spec as { templateRef?: unknown }).templateRef;
    h.metadata.labels = { 'anvil.dev/discovered': 'true' };
    const sim = new Sim(h);
    await sim.step();
    expect(sim.status.state).toBe('Discovered');
    expect(sim.published()).toBeUndefined();
    sim.h = host();
    sim.ports.hosts = [sim.h];
    await sim.step();
    expect(sim.status.state).toBe('Provisioning');
  });

  it('renders an attempt once while its inputs are unchanged, and again (same token) when they change', async () => {
    const sim = new Sim(host());
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
    const sim = new Sim(host());
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
    const sim = new Sim(host());
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
    const sim = new Sim(host());
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

  it('a nested failure marks the install failing; the top-level FAIL ends it with the deepest failure as the reason', async () => {
    const sim = new Sim(host());
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

  it('keeps the finished attempt\'s webhook credentials published until the machine boots again', async () => {
    const sim = new Sim(host());
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

  it('withdraws a published config that carries a plain-text password when the attempt renders again', async () => {
    const sim = new Sim(host());
    sim.ports.inputs = () => 'v1';
    await sim.step();
    sim.ports.inputs = () => 'v2';
    sim.ports.renderOutcome = () => ({ ok: false, errorType: 'ValidationError', reason: 'InvalidInstallerConfig', message: 'userData: autoinstall.identity.password: is a plain-text password, which anvil never publishes' });
    await sim.step();
    expect(sim.published()?.mode).toBe('local');
    expect(sim.status.conditions?.find((c) => c.type === 'BootConfigReady')).toMatchObject({ status: 'False', reason: 'InvalidInstallerConfig' });
  });

  it('counts installer activity by the server\'s clock: an installer clock years ahead neither stalls nor spins the timeout', async () => {
    const sim = new Sim(host());
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
