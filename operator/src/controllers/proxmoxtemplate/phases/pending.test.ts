import { describe, expect, it } from '@jest/globals';
import { ChecksumError } from '../../../proxmox/checksums.js';
import { ProxmoxError } from '../../../proxmox/errors.js';
import { commitThenContinue } from '../../../runtime/result.js';
import { NEXT } from '../context.js';
import { builtVmConfig, fixtureBuild, fixtureContext, fixtureTemplate, fixtureVersion, FixtureTemplatePorts, IMPORT_VOLUME } from '../fixture-ports.js';
import { buildId } from '../settings.js';
import { pending } from './pending.js';

describe('phase Pending', () => {
  it('decides a new build of version 1 and commits it before anything is downloaded', async () => {
    const ports = new FixtureTemplatePorts();
    const template = fixtureTemplate();
    const ctx = fixtureContext(ports, template);
    await expect(pending(ctx)).resolves.toBe(commitThenContinue());
    expect(ctx.status.phase).toBe('Downloading');
    expect(ctx.status.build).toEqual(fixtureBuild(template, { startedAt: expect.any(String) as unknown as string }));
    expect(ctx.status.lastCheckedAt).toBeDefined();
    expect(ports.started).toEqual([expect.objectContaining({ id: buildId(template, 1, 0), version: 1, namespace: 'lab', name: 'noble', node: 'pve' })]);
    expect(ports.reasons()).toEqual(['BuildStarted']);
    expect(ports.api.changes).toEqual([]);
  });

  it('goes to Ready without building when a kept version already matches (a restart, a re-applied spec)', async () => {
    const ports = new FixtureTemplatePorts();
    const template = fixtureTemplate();
    const ctx = fixtureContext(ports, template, { versions: [fixtureVersion(template, 1, 100)] });
    await expect(pending(ctx)).resolves.toBe(NEXT);
    expect(ctx.status).toMatchObject({ phase: 'Ready', activeVersion: 1, vmid: 100, templateName: 'noble-v1' });
    expect(ctx.status.build).toBeUndefined();
    expect(ports.started).toEqual([]);
  });

  it('adopts the templates on the node that carry its marker when the status was lost, and removes an unfinished one', async () => {
    const ports = new FixtureTemplatePorts();
    const template = fixtureTemplate();
    ports.api.addVm(100, builtVmConfig(template, fixtureBuild(template), true));
    ports.api.addVm(101, builtVmConfig(template, fixtureBuild(template, { version: 2 }), false));
    ports.api.addVm(102, { name: 'noble-v3', description: 'made by hand' });
    const ctx = fixtureContext(ports, template);
    await expect(pending(ctx)).resolves.toBe(NEXT);
    expect(ctx.status.versions).toEqual([expect.objectContaining({ version: 1, vmid: 100, name: 'noble-v1' })]);
    expect(ctx.status.phase).toBe('Ready');
    expect([...ports.api.vms.keys()]).toEqual([100, 102]);
    expect(ports.reasons()).toEqual(['LeftoverRemoved', 'Adopted']);
  });

  it('resumes a failed build that still matches at its step, as a new attempt in the history', async () => {
    const ports = new FixtureTemplatePorts();
    const template = fixtureTemplate();
    const build = fixtureBuild(template, { step: 'create', vmid: 100, failures: 1 });
    const ctx = fixtureContext(ports, template, { phase: 'Pending', build });
    await expect(pending(ctx)).resolves.toBe(commitThenContinue());
    expect(ctx.status.phase).toBe('Creating');
    expect(ctx.status.build).toMatchObject({ version: 1, vmid: 100, step: 'create', id: buildId(template, 1, 1) });
    expect(ports.started.map((r) => r.id)).toEqual([buildId(template, 1, 1)]);
    expect(ports.reasons()).toEqual(['BuildResumed']);
  });

  it('abandons a build the spec no longer asks for (its VM and image removed) and starts it again under the new spec', async () => {
    const ports = new FixtureTemplatePorts();
    const template = fixtureTemplate({ vm: { cores: 8 } });
    const old = fixtureBuild(fixtureTemplate(), { step: 'template', vmid: 100 });
    ports.api.addVm(100, builtVmConfig(template, old, false));
    ports.api.addVolume(IMPORT_VOLUME);
    const ctx = fixtureContext(ports, template, { phase: 'Failed', build: old });
    await expect(pending(ctx)).resolves.toBe(commitThenContinue());
    expect(ports.finished).toEqual([expect.objectContaining({ id: old.id, result: 'CANCELLED' })]);
    expect(ports.api.vms.size).toBe(0);
    expect(ports.api.volumes).toEqual([]);
    expect(ctx.status.build).toMatchObject({ version: 1, step: 'download', settingsHash: fixtureBuild(template).settingsHash });
    expect(ctx.status.build?.settingsHash).not.toBe(old.settingsHash);
    expect(ports.reasons()).toEqual(['BuildCancelled', 'BuildStarted']);
  });

  it('waits (a transient error) while a task of the build it abandons is still running', async () => {
    const ports = new FixtureTemplatePorts();
    const template = fixtureTemplate({ vm: { cores: 8 } });
    const upid = await ports.api.downloadUrl({ storage: 'local', url: 'u', filename: 'x.qcow2', content: 'import' });
    const ctx = fixtureContext(ports, template, { phase: 'Downloading', build: fixtureBuild(fixtureTemplate()), currentTask: { upid, type: 'download' } });
    const err = await pending(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxmoxError);
    expect(err).toMatchObject({ code: 'lock', transient: true });
    expect(ctx.status.build?.version).toBe(1);
  });

  it('builds nothing while a pin holds the template at a kept version', async () => {
    const ports = new FixtureTemplatePorts();
    const template = fixtureTemplate({ versions: { pin: 1 } });
    const ctx = fixtureContext(ports, template, { versions: [fixtureVersion(template, 1, 100, { checksum: 'cd'.repeat(32) })] });
    await expect(pending(ctx)).resolves.toBe(NEXT);
    expect(ctx.status).toMatchObject({ phase: 'Ready', activeVersion: 1 });
    expect(ctx.status.build).toBeUndefined();
  });

  it('throws a transient ChecksumError when the checksum file cannot be read, a permanent one for a bad source', async () => {
    const ports = new FixtureTemplatePorts();
    const unreachable = fixtureTemplate({ source: { url: 'https://images.example.org/a.img', checksum: { url: 'https://images.example.org/SHA256SUMS' } } });
    await expect(pending(fixtureContext(ports, unreachable))).rejects.toMatchObject({ name: 'ChecksumError', transient: true });
    const compressed = fixtureTemplate({ source: { url: 'https://images.example.org/a.img.xz', checksum: { value: 'ab'.repeat(32) } } });
    const err = await pending(fixtureContext(ports, compressed)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect((err as ChecksumError).transient).toBe(false);
    expect(ports.started).toEqual([]);
  });
});
