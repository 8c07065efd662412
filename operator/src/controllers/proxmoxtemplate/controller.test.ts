import { describe, expect, it } from '@jest/globals';
import { AnvilResources, type ProxmoxTemplate } from '@anvil/core/api';
import { MemoryKubeClient, MemorySnapshotCache } from '@anvil/core/src/kube/memory-client.js';
import { silentLogger } from '@anvil/core/logging';
import type { Request } from '../../runtime/reconciler.js';
import { done, requeueAfter, type ReconcileResult } from '../../runtime/result.js';
import { templateContext } from './context.js';
import { ProxmoxTemplateReconciler, TEMPLATE_FINALIZER } from './controller.js';
import { builtVmConfig, FIXED_NOW, fixtureBuild, fixtureConfig, fixtureTemplate, fixtureVersion, FixtureTemplatePorts, IMPORT_VOLUME } from './fixture-ports.js';
import { TemplateConfigError } from './ports.js';

const req: Request = { namespace: 'lab', name: 'noble' };


/** A template being deleted, with version 1 built (VMID 100) on the fake node. */
async function deleting(spec: Partial<ProxmoxTemplate['spec']> = {}) {
  const client = new MemoryKubeClient();
  const ports = new FixtureTemplatePorts();
  const forgotten: string[] = [];
  ports.forget = async () => void forgotten.push('noble');
  const given = fixtureTemplate(spec);
  given.metadata.finalizers = [TEMPLATE_FINALIZER];
  const template = await client.create(AnvilResources.proxmoxTemplate, given);
  await client.patch(AnvilResources.proxmoxTemplate, req, 'merge', { status: { phase: 'Ready', versions: [fixtureVersion(template, 1, 100)], activeVersion: 1 } }, { subresource: 'status' });
  ports.api.addVm(100, builtVmConfig(template, fixtureBuild(template), true));
  ports.api.addVolume(IMPORT_VOLUME);
  await client.delete(AnvilResources.proxmoxTemplate, req);
  const cache = new MemorySnapshotCache<ProxmoxTemplate>(client, AnvilResources.proxmoxTemplate);
  await cache.sync();
  const reconciler = new ProxmoxTemplateReconciler({ client, templates: cache, ports, log: silentLogger(), config: fixtureConfig, now: () => FIXED_NOW });
  const stored = (): Promise<ProxmoxTemplate | undefined> => client.get<ProxmoxTemplate>(AnvilResources.proxmoxTemplate, req);
  const pass = async (): Promise<ReconcileResult> => {
    const result = await reconciler.reconcile(req);
    await cache.sync();
    return result;
  };
  return { ports, forgotten, stored, pass };
}

describe('ProxmoxTemplateReconciler', () => {
  it('on deletion removes what it built from Proxmox, then forgets the object and removes the finalizer', async () => {
    const { ports, forgotten, stored, pass } = await deleting();
    expect(await pass()).toEqual(done());
    expect(ports.api.vms.size).toBe(0);
    expect(ports.reasons()).toEqual(['TemplatesDeleted']);
    expect(forgotten).toEqual(['noble']);
    expect(await stored()).toBeUndefined();
  });

  it('keeps the finalizer while Proxmox cannot be reached, with the way out in status', async () => {
    const { ports, forgotten, stored, pass } = await deleting();
    ports.connectError = new TemplateConfigError('SecretNotFound', 'Secret lab/pve-token does not exist');
    expect(await pass()).toEqual(requeueAfter(fixtureConfig.retryBaseMs));
    const t = await stored();
    expect(t?.metadata.finalizers).toEqual([TEMPLATE_FINALIZER]);
    expect(t?.status?.phase).toBe('Deleting');
    expect(t?.status?.message).toMatch(/^cannot remove the templates yet: Secret lab\/pve-token does not exist; set spec.retainPolicy to Retain/);
    expect(ports.reasons()).toEqual(['DeleteFailed']);
    expect(forgotten).toEqual([]);

    ports.connectError = undefined;
    expect(await pass()).toEqual(done());
    expect(await stored()).toBeUndefined();
  });

  it('with retainPolicy Retain leaves the templates on Proxmox and lets the object go', async () => {
    const { ports, forgotten, stored, pass } = await deleting({ retainPolicy: 'Retain' });
    expect(await pass()).toEqual(done());
    expect([...ports.api.vms.keys()]).toEqual([100]);
    expect(ports.events).toEqual([{ type: 'Normal', reason: 'TemplatesRetained', note: 'retainPolicy is Retain: templates left on Proxmox: v1 (VMID 100)' }]);
    expect(forgotten).toEqual(['noble']);
    expect(await stored()).toBeUndefined();
  });
});

describe('templateContext', () => {
  it('refuses the PVE API before it is connected, and hands out the one it was given after', () => {
    const ports = new FixtureTemplatePorts();
    const ctx = templateContext({ template: fixtureTemplate(), status: {}, now: FIXED_NOW, ports, config: fixtureConfig });
    expect(() => ctx.api).toThrow('ProxmoxTemplate lab/noble: the PVE API was used before connecting');
    ctx.api = ports.api;
    expect(ctx.api).toBe(ports.api);
  });
});
