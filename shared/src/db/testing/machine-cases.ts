// Conformance cases for what is not an installation: boot requests, discovered machines, template builds, pruning.
import type { HistoryStore } from '../history-store.js';
import { at, ev, started, uuid, type Jest } from './fixtures.js';

/** Registers the boot request, discovery, template build and prune cases in the enclosing describe; `current` is the store under test. */
export function machineAndBuildCases(j: Jest, current: () => HistoryStore): void {
  const { it, expect, beforeEach } = j;
  let store: HistoryStore;
  beforeEach(() => {
    store = current();
  });

  it('stores a re-shipped boot request once and lists them by MAC', async () => {
    const req = { time: at(10), mac: '52:54:00:AA:00:01', clientIp: '10.0.0.5', path: '/boot.ipxe', served: 'InstallScript', host: { namespace: 'default', name: 'node-01' }, installationId: uuid(1) };
    expect(await store.recordBootRequests([req, req, { ...req, time: at(11), path: '/hosts/x/script.ipxe' }])).toEqual({ inserted: 2, invalid: 0 });
    expect(await store.recordBootRequests([req, { ...req, time: 'never' }])).toEqual({ inserted: 0, invalid: 1 });
    const page = await store.listBootRequests('52-54-00-aa-00-01', { limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ mac: '52:54:00:aa:00:01', path: '/hosts/x/script.ipxe', host: { namespace: 'default', name: 'node-01' }, installationId: uuid(1) });
    const rest = await store.listBootRequests('52:54:00:aa:00:01', { cursor: page.nextCursor });
    expect(rest.items.map((r) => r.path)).toEqual(['/boot.ipxe']);
  });

  it('upserts discovered machines by MAC', async () => {
    await store.recordDiscovered([{ mac: '52:54:00:00:00:09', seenAt: at(100), ip: '10.0.0.9', arch: 'x86_64', platform: 'pcbios' }]);
    await store.recordDiscovered([
      { mac: '52:54:00:00:00:09', seenAt: at(50), ip: '10.0.0.8', arch: 'old' },
      { mac: '52:54:00:00:00:09', seenAt: at(200), ip: '10.0.0.10', platform: 'efi' },
      { mac: '52:54:00:00:00:0a', seenAt: at(150) },
    ]);
    const page = await store.listDiscovered();
    expect(page.items.map((m) => m.mac)).toEqual(['52:54:00:00:00:09', '52:54:00:00:00:0a']);
    const m = page.items[0]!;
    expect([m.firstSeen.toISOString(), m.lastSeen.toISOString()]).toEqual([at(50).toISOString(), at(200).toISOString()]);
    expect(m).toMatchObject({ lastIp: '10.0.0.10', arch: 'x86_64', platform: 'efi' });
    // Every sighting counts, the one older than the stored last one too.
    expect(m.seenCount).toBe(3);
  });

  it('keeps one row per MAC however often it is seen, counts each sighting once, and updates its facts in place', async () => {
    const mac = (i: number) => `52:54:00:00:01:${i.toString(16).padStart(2, '0')}`;
    // 5,000 sightings of 5 machines, in one call and in repeated calls.
    const sightings = Array.from({ length: 5000 }, (_, i) => ({ mac: mac(i % 5), seenAt: at(1000 + i), ip: `10.0.1.${i % 5}`, arch: i < 4995 ? 'i386' : 'x86_64' }));
    await store.recordDiscovered(sightings.slice(0, 2000));
    await store.recordDiscovered(sightings.slice(2000));
    let page = await store.listDiscovered({ limit: 100 });
    expect(page.items).toHaveLength(5);
    expect(page.items.map((m) => m.seenCount)).toEqual([1000, 1000, 1000, 1000, 1000]);
    const latest = page.items[0]!;
    expect(latest).toMatchObject({ mac: mac(4), lastIp: '10.0.1.4', arch: 'x86_64' });
    expect([latest.firstSeen.toISOString(), latest.lastSeen.toISOString()]).toEqual([at(1004).toISOString(), at(5999).toISOString()]);
    // Sightings in the same millisecond and out of order (concurrent requests) are each counted; sightings without
    // a MAC or a time are dropped; the facts follow the latest sighting, whatever the order of the calls.
    await store.recordDiscovered([
      { mac: mac(4).toUpperCase().replace(/:/g, '-'), seenAt: at(6000), platform: 'efi' },
      { mac: mac(4), seenAt: at(6000) },
      { mac: mac(4), seenAt: at(5500), arch: 'old', ip: '10.9.9.9' },
      { mac: '', seenAt: at(6001) },
      { mac: mac(9), seenAt: 'never' },
    ]);
    page = await store.listDiscovered({ limit: 100 });
    expect(page.items).toHaveLength(5);
    expect(page.items[0]).toMatchObject({ mac: mac(4), seenCount: 1003, arch: 'x86_64', platform: 'efi', lastIp: '10.0.1.4' });
    expect(page.items[0]!.lastSeen.toISOString()).toBe(at(6000).toISOString());
  });

  it('records template builds', async () => {
    const tpl = { namespace: 'default', name: 'ubuntu-noble' };
    await store.recordTemplateBuildStarted({ id: uuid(1), template: tpl, version: '1.0.0', node: 'pve1', startedAt: at(0) });
    await store.recordTemplateBuildStarted({ id: uuid(2), template: tpl, version: '1.1.0', node: 'pve1', startedAt: at(100) });
    expect(await store.recordTemplateBuildFinished({ id: uuid(1), result: 'SUCCESS', finishedAt: at(60), vmid: 9000, checksum: 'sha256:x', taskUpid: 'UPID:pve1:1' })).toBe('updated');
    expect(await store.recordTemplateBuildFinished({ id: uuid(1), result: 'FAIL', finishedAt: at(70) })).toBe('already-finished');
    const builds = await store.listTemplateBuilds(tpl);
    expect(builds.items.map((b) => b.version)).toEqual(['1.1.0', '1.0.0']);
    expect(builds.items[1]).toMatchObject({ result: 'SUCCESS', vmid: 9000, checksum: 'sha256:x', taskUpid: 'UPID:pve1:1', node: 'pve1' });
  });

  it('records rollout decisions once each, newest first per template', async () => {
    const tpl = { namespace: 'default', name: 'fleet' };
    await store.recordRolloutDecisions([
      { id: uuid(1), template: tpl, time: at(0), type: 'GateVerdict', message: 'revision 2: allowed', revision: 2, trigger: "the template's revision 2" },
      { id: uuid(2), template: tpl, time: at(10), type: 'WaveStarted', message: 'wave 1 of 2 started', revision: 2, hosts: ['node-a', 'node-b'], trigger: "the template's revision 2" },
      { id: uuid(3), template: { namespace: 'default', name: 'other' }, time: at(5), type: 'GateVerdict', message: 'x', trigger: 't' },
    ]);
    // a decision recorded again (a retried reconcile) is stored once
    await store.recordRolloutDecisions([{ id: uuid(2), template: tpl, time: at(10), type: 'WaveStarted', message: 'wave 1 of 2 started', revision: 2, hosts: ['node-a', 'node-b'], trigger: "the template's revision 2" }]);
    const page = await store.listRolloutDecisions(tpl);
    expect(page.items.map((d) => d.type)).toEqual(['WaveStarted', 'GateVerdict']);
    expect(page.items[0]).toMatchObject({ revision: 2, hosts: ['node-a', 'node-b'], trigger: "the template's revision 2" });
    expect(page.items[1]).toMatchObject({ hosts: [], revision: 2 });
    const first = await store.listRolloutDecisions(tpl, { limit: 1 });
    expect(first.items.map((d) => d.type)).toEqual(['WaveStarted']);
    expect((await store.listRolloutDecisions(tpl, { limit: 1, cursor: first.nextCursor! })).items.map((d) => d.type)).toEqual(['GateVerdict']);
    await expect(store.recordRolloutDecisions([{ id: 'not-a-uuid', template: tpl, time: at(0), type: 'x', message: 'x', trigger: 't' }])).rejects.toThrow(/UUID/);
  });

  it('prunes old events and boot requests but keeps installation summaries', async () => {
    await store.recordInstallStarted(started(1));
    await store.recordInstallFinished({ installationId: uuid(1), result: 'SUCCESS', finishedAt: at(10_500) });
    await store.recordInstallerEvents([
      { installationId: uuid(1), event: ev(1, 'old', 'info'), receivedAt: at(1) },
      { installationId: uuid(1), event: ev(2, 'new', 'info'), receivedAt: at(1000) },
    ]);
    await store.recordBootRequests([
      { time: at(1), mac: 'm', clientIp: 'i', path: '/old', served: 's' },
      { time: at(1000), mac: 'm', clientIp: 'i', path: '/new', served: 's' },
    ]);
    expect(await store.prune(at(500))).toEqual({ installerEvents: 1, bootRequests: 1 });
    expect((await store.listInstallerEvents(uuid(1))).items.map((e) => e.name)).toEqual(['new']);
    expect((await store.listBootRequests('m')).items.map((r) => r.path)).toEqual(['/new']);
    expect(await store.getInstallation(uuid(1))).toMatchObject({ result: 'SUCCESS', durationSeconds: 500 });
    expect(await store.prune(at(500))).toEqual({ installerEvents: 0, bootRequests: 0 });
  });
}
