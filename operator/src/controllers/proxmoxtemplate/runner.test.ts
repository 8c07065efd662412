import { describe, expect, it } from '@jest/globals';
import type { ProxmoxTemplatePhase } from '@anvil/core/api';
import { commitThenContinue, requeueAfter, requeueWithBackoff, type ReconcileResult } from '../../runtime/result.js';
import { NEXT, type PhaseHandler, type TemplateContext } from './context.js';
import { pveError } from './fake-proxmox.js';
import { fixtureConfig, fixtureContext, fixtureTemplate, FixtureTemplatePorts } from './fixture-ports.js';
import { PHASES } from './phase-table.js';
import { TemplateConfigError } from './ports.js';
import { runTemplatePhases } from './runner.js';

const conditionOf = (ctx: TemplateContext, type: string) => ctx.status.conditions?.find((c) => c.type === type);

describe('the ProxmoxTemplate phase runner', () => {
  it('builds a template over several reconciles, one PVE task at a time, and ends Ready', async () => {
    const ports = new FixtureTemplatePorts();
    const ctx = fixtureContext(ports, fixtureTemplate({ vm: { diskSize: '20G' } }));
    const seen: string[] = [];
    for (let i = 0; i < 20 && ctx.status.phase !== 'Ready'; i++) {
      const result = await runTemplatePhases(ctx);
      seen.push(`${ctx.status.phase}:${result.kind}`);
      expect(ports.api.runningTasks().length).toBeLessThanOrEqual(1);
      if (ctx.status.currentTask) expect(conditionOf(ctx, 'Building')).toMatchObject({ status: 'True', reason: ctx.status.phase });
      for (const task of ports.api.runningTasks()) ports.api.finishTask(task.upid);
    }
    expect(seen).toEqual([
      'Downloading:commitThenContinue',
      'Downloading:requeueAfter',
      'Creating:commitThenContinue',
      'Creating:requeueAfter',
      'Converting:requeueAfter',
      'Converting:requeueAfter',
      'Ready:requeueAfter',
    ]);
    expect(ports.api.changes).toEqual([expect.stringMatching(/^download /), 'qmcreate 100', 'resize 100', 'qmtemplate 100']);
    expect(ctx.status).toMatchObject({ activeVersion: 1, vmid: 100, pveVersion: '8.4.1' });
    expect(conditionOf(ctx, 'Ready')).toMatchObject({ status: 'True', reason: 'TemplateReady' });
    expect(conditionOf(ctx, 'Building')).toMatchObject({ status: 'False', reason: 'Idle' });
    expect(conditionOf(ctx, 'Connected')).toMatchObject({ status: 'True' });
  });

  it('refuses a PVE older than 8.3 before any phase runs, and looks again slowly', async () => {
    const ports = new FixtureTemplatePorts();
    ports.api.release = { version: '8.2.7', release: '8.2', repoid: 'x' };
    const ctx = fixtureContext(ports, fixtureTemplate());
    await expect(runTemplatePhases(ctx)).resolves.toEqual(requeueAfter(fixtureConfig.retryMaxMs));
    expect(conditionOf(ctx, 'Connected')).toMatchObject({ status: 'False', reason: 'UnsupportedVersion' });
    expect(ctx.status.build).toBeUndefined();
  });

  it('reports a configuration problem in Connected and retries it slowly', async () => {
    const ports = new FixtureTemplatePorts();
    ports.connectError = new TemplateConfigError('SecretNotFound', 'Secret lab/pve-token (spec.connection.tokenSecretRef) does not exist');
    const ctx = fixtureContext(ports, fixtureTemplate());
    await expect(runTemplatePhases(ctx)).resolves.toEqual(requeueAfter(fixtureConfig.retryBaseMs));
    expect(conditionOf(ctx, 'Connected')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(conditionOf(ctx, 'Ready')).toMatchObject({ status: 'False', reason: 'NoTemplateYet' });
  });

  it('retries a transient PVE error with backoff in the same phase, and fails the build on a permanent one', async () => {
    const ports = new FixtureTemplatePorts();
    const ctx = fixtureContext(ports, fixtureTemplate());
    await runTemplatePhases(ctx);
    ports.api.failNext('downloadUrl', pveError('unavailable', 'proxy loop detected', true));
    await expect(runTemplatePhases(ctx)).resolves.toBe(requeueWithBackoff());
    expect(ctx.status.phase).toBe('Downloading');
    expect(ctx.status.message).toContain('will retry');
    ports.api.failNext('downloadUrl', pveError('permission', 'Permission check failed (/storage/local, Datastore.AllocateTemplate)'));
    await expect(runTemplatePhases(ctx)).resolves.toEqual(requeueAfter(fixtureConfig.retryBaseMs));
    expect(ctx.status.phase).toBe('Failed');
    expect(conditionOf(ctx, 'Building')).toMatchObject({ status: 'False', reason: 'PermissionDenied' });
    expect(conditionOf(ctx, 'Ready')).toMatchObject({ status: 'False', reason: 'BuildFailed' });
    expect(ports.finished).toEqual([expect.objectContaining({ result: 'FAIL' })]);
  });

  it('tells an unreachable PVE (backoff) from a TLS problem (slow retry) in Connected', async () => {
    const ports = new FixtureTemplatePorts();
    const ctx = fixtureContext(ports, fixtureTemplate());
    ports.api.failNext('version', pveError('network', 'connect ECONNREFUSED', true));
    await expect(runTemplatePhases(ctx)).resolves.toBe(requeueWithBackoff());
    expect(conditionOf(ctx, 'Connected')).toMatchObject({ status: 'False', reason: 'Unreachable' });
    ports.api.failNext('version', pveError('tls', 'unable to verify the first certificate'));
    await expect(runTemplatePhases(ctx)).resolves.toEqual(requeueAfter(fixtureConfig.retryBaseMs));
    expect(conditionOf(ctx, 'Connected')).toMatchObject({ status: 'False', reason: 'TLSError' });
    expect(ctx.status.phase).toBe('Pending');
  });

  it('retries an unreadable checksum file with backoff, and fails a source PVE cannot import', async () => {
    const ports = new FixtureTemplatePorts();
    const unreadable = fixtureContext(ports, fixtureTemplate({ source: { url: 'https://images.example.org/a.img', checksum: { url: 'https://images.example.org/SHA256SUMS' } } }));
    await expect(runTemplatePhases(unreadable)).resolves.toBe(requeueWithBackoff());
    expect(conditionOf(unreadable, 'SourceResolved')).toMatchObject({ status: 'False', reason: 'ChecksumUnavailable' });
    expect(unreadable.status.phase).toBe('Pending');
    const compressed = fixtureContext(ports, fixtureTemplate({ source: { url: 'https://images.example.org/a.img.xz', checksum: { value: 'ab'.repeat(32) } } }));
    await expect(runTemplatePhases(compressed)).resolves.toEqual(requeueAfter(fixtureConfig.retryBaseMs));
    expect(compressed.status.phase).toBe('Failed');
    expect(conditionOf(compressed, 'SourceResolved')).toMatchObject({ status: 'False', reason: 'InvalidSource' });
  });

  it('throws on an error that is neither a configuration nor a PVE problem (a bug: the controller logs it)', async () => {
    const ports = new FixtureTemplatePorts();
    ports.api.failNext('version', new TypeError('cannot read properties of undefined'));
    await expect(runTemplatePhases(fixtureContext(ports, fixtureTemplate()))).rejects.toBeInstanceOf(TypeError);
  });

  it('runs the handler of the phase a handler entered in the same reconcile, and stops a loop between phases', async () => {
    const ran: ProxmoxTemplatePhase[] = [];
    const to = (phase: ProxmoxTemplatePhase): PhaseHandler => async (ctx) => {
      ran.push(ctx.status.phase!);
      ctx.status.phase = phase;
      return NEXT;
    };
    const stop = (result: ReconcileResult): PhaseHandler => async (ctx) => (ran.push(ctx.status.phase!), result);
    const chain = { ...PHASES, Pending: to('Downloading'), Downloading: stop(requeueAfter(5)) };
    await expect(runTemplatePhases(fixtureContext(new FixtureTemplatePorts(), fixtureTemplate()), chain)).resolves.toEqual(requeueAfter(5));
    expect(ran).toEqual(['Pending', 'Downloading']);
    ran.length = 0;
    const loop = { ...PHASES, Pending: to('Failed'), Failed: to('Pending') };
    await expect(runTemplatePhases(fixtureContext(new FixtureTemplatePorts(), fixtureTemplate()), loop)).resolves.toBe(commitThenContinue());
    expect(ran).toHaveLength(10);
  });
});
