import { describe, expect, it } from '@jest/globals';
import type { ProxmoxTemplate, ProxmoxTemplateStatus } from '@anvil/core/api';
import { kubeTime } from '@anvil/core/conditions';
import { done, requeueAfter } from '../../../runtime/result.js';
import { NEXT } from '../context.js';
import { pveError } from '../fake-proxmox.js';
import { builtVmConfig, fixtureBuild, fixtureContext, FIXED_NOW, fixtureTemplate, fixtureVersion, FixtureTemplatePorts } from '../fixture-ports.js';
import { ready } from './ready.js';

const HOUR = 3_600_000;
const ago = (ms: number): string => kubeTime(new Date(FIXED_NOW.getTime() - ms));

/** A Ready template with kept versions 1..n (VMIDs 100..), all present on the node, checked `checkedAgo` ms ago. */
function readyContext(n: number, spec: Partial<ProxmoxTemplate['spec']> = {}, checkedAgo = HOUR, status: ProxmoxTemplateStatus = {}) {
  const ports = new FixtureTemplatePorts();
  const template = fixtureTemplate({ source: { ...fixtureTemplate().spec.source, checkIntervalSeconds: 86_400 }, ...spec });
  template.metadata.generation = 2;
  // Built under the fixture's original spec: a test that changes spec.vm makes them outdated.
  const original = fixtureTemplate();
  const versions = Array.from({ length: n }, (_, i) => fixtureVersion(original, i + 1, 100 + i));
  for (const v of versions) ports.api.addVm(v.vmid, builtVmConfig(original, fixtureBuild(original, { version: v.version }), true));
  const ctx = fixtureContext(ports, template, { phase: 'Ready', observedGeneration: 2, versions, activeVersion: n, lastCheckedAt: ago(checkedAgo), ...status });
  return { ports, ctx, api: ports.api, template };
}

describe('phase Ready', () => {
  it('asks nothing of the node until the check is due, and comes back when it is', async () => {
    const { ctx, api } = readyContext(1);
    api.failNext('listVms', pveError('network', 'not to be called', true));
    await expect(ready(ctx)).resolves.toEqual(requeueAfter(23 * HOUR));
    expect(ctx.status).toMatchObject({ phase: 'Ready', activeVersion: 1, vmid: 100, templateName: 'noble-v1' });
    expect(ctx.status.message).toBe('version 1 (VMID 100, noble-v1) is ready');
  });

  it('checks upstream when due and stays Ready when a kept version still matches', async () => {
    const { ctx, ports } = readyContext(1, {}, 25 * HOUR);
    await expect(ready(ctx)).resolves.toEqual(requeueAfter(24 * HOUR));
    expect(ctx.status.lastCheckedAt).toBe(kubeTime(ctx.now));
    expect(ports.events).toEqual([]);
  });

  it('goes to Pending when the spec changed and no kept version matches the new settings', async () => {
    const { ctx, ports } = readyContext(1, { vm: { cores: 8 } });
    ctx.status.observedGeneration = 1;
    await expect(ready(ctx)).resolves.toBe(NEXT);
    expect(ctx.status.phase).toBe('Pending');
    expect(ports.reasons()).toEqual(['UpdateFound']);
  });

  it('keeps a pinned template although upstream moved on', async () => {
    const { ctx } = readyContext(2, { versions: { pin: 1 }, source: { url: fixtureTemplate().spec.source.url!, checksum: { value: 'cd'.repeat(32) } } }, 25 * HOUR);
    await expect(ready(ctx)).resolves.toEqual(requeueAfter(24 * HOUR));
    expect(ctx.status).toMatchObject({ phase: 'Ready', activeVersion: 1, vmid: 100 });
    expect(ctx.status.message).toContain('pinned');
  });

  it('forgets versions whose template was removed on the node, and builds again when none is left', async () => {
    const { ctx, api, ports } = readyContext(1, {}, 25 * HOUR);
    api.vms.delete(100);
    await expect(ready(ctx)).resolves.toBe(NEXT);
    expect(ctx.status.versions).toEqual([]);
    expect(ctx.status.phase).toBe('Pending');
    expect(ports.reasons()).toEqual(['TemplateMissing', 'UpdateFound']);
  });

  it('prunes the oldest versions beyond spec.versions.keep, never the active one', async () => {
    const { ctx, api, ports } = readyContext(3, { versions: { keep: 1, pin: 2 } });
    await ready(ctx);
    expect(ctx.status.versions?.map((v) => v.version)).toEqual([2]);
    expect([...api.vms.keys()]).toEqual([101]);
    expect(ports.reasons()).toEqual(['VersionActivated', 'VersionDeleted', 'VersionDeleted']);
  });

  it('never comes back by itself when checkIntervalSeconds is 0', async () => {
    const { ctx } = readyContext(1, { source: { ...fixtureTemplate().spec.source, checkIntervalSeconds: 0 } });
    await expect(ready(ctx)).resolves.toBe(done());
  });

  it('lets a transient PVE error of the check through to the runner', async () => {
    const { ctx, api } = readyContext(1, {}, 25 * HOUR);
    api.failNext('listVms', pveError('unavailable', 'pveproxy restarting', true));
    await expect(ready(ctx)).rejects.toMatchObject({ transient: true });
    expect(ctx.status.phase).toBe('Ready');
  });

  it('holds a major release for approval (the active version stays), and builds it once that release is approved', async () => {
    const url = fixtureTemplate().spec.source.url!;
    const newer = { url, checksum: { value: 'cd'.repeat(32) }, release: '26.04' };
    const { ctx, ports } = readyContext(1, { source: newer }, 25 * HOUR);
    ctx.status.versions![0]!.release = '24.04';
    await expect(ready(ctx)).resolves.toEqual(requeueAfter(24 * HOUR));
    expect(ctx.status).toMatchObject({ phase: 'Ready', activeVersion: 1, pendingRelease: '26.04' });
    expect(ctx.status.message).toContain('release 26.04 waits for approval');
    expect(ctx.status.conditions?.find((c) => c.type === 'UpdateApproved')).toMatchObject({ status: 'False', reason: 'NeedsApproval' });
    expect(ports.reasons()).toEqual(['UpdateNeedsApproval']);
    // a minor or patch release is built without approval
    const patch = readyContext(1, { source: { ...newer, release: '24.04.1' } }, 25 * HOUR);
    patch.ctx.status.versions![0]!.release = '24.04';
    await expect(ready(patch.ctx)).resolves.toBe(NEXT);
    expect(patch.ctx.status.phase).toBe('Pending');
    // approving another release approves nothing
    const other = readyContext(1, { source: newer, updates: { approvedRelease: '25.10' } }, 25 * HOUR);
    other.ctx.status.versions![0]!.release = '24.04';
    await expect(ready(other.ctx)).resolves.toEqual(requeueAfter(24 * HOUR));
    const approved = readyContext(1, { source: newer, updates: { approvedRelease: '26.04' } }, 25 * HOUR);
    approved.ctx.status.versions![0]!.release = '24.04';
    await expect(ready(approved.ctx)).resolves.toBe(NEXT);
    expect(approved.ctx.status.phase).toBe('Pending');
    expect(approved.ctx.status.conditions?.find((c) => c.type === 'UpdateApproved')).toMatchObject({ status: 'True' });
  });
});
