import { AnvilResources, type BareMetalHost } from '@anvil/core/api';
import { ApiError, type KubeObject } from '@anvil/core/kube';
import { MemoryKubeClient } from '@anvil/core/src/kube/memory-client.js';
import { silentLogger } from '@anvil/core/logging';
import type { BootRequestRecord, SpoolRecord } from '../spool/records.js';
import { CreationRate } from './creation-rate.js';
import { discoveredHostName, DiscoveredHostSink } from './discovered-host-sink.js';

type Host = BareMetalHost & KubeObject;
const NS = 'metal';
const T0 = Date.parse('2026-12-01T10:00:00Z');

const boot = (mac: string, atMs = T0, facts: Record<string, string> = { arch: 'x86_64', platform: 'efi', manufacturer: 'QEMU' }, clientIP = '10.0.0.5'): BootRequestRecord => ({
  kind: 'boot-request',
  time: new Date(atMs).toISOString(),
  mac,
  clientIP,
  path: `/ipxe/${mac}`,
  served: 'Rejected',
  facts,
});

function setup(options: { createsPerMinute?: number; scope?: string[] } = {}) {
  const client = new MemoryKubeClient();
  const sink = new DiscoveredHostSink(client, silentLogger(), { namespace: NS, scope: options.scope ?? [], createsPerMinute: options.createsPerMinute ?? 30 });
  const host = (mac: string) => client.get<Host>(AnvilResources.bareMetalHost, { namespace: NS, name: discoveredHostName(mac) });
  return { client, sink, host };
}

describe('DiscoveredHostSink (--discovery=create)', () => {
  it('creates one labelled host without a templateRef per unknown MAC, with the facts of its first boot in status', async () => {
    const { client, sink, host } = setup();
    await sink.ship([boot('52:54:00:AA:00:01'), boot('52:54:00:aa:00:01', T0 + 1000, { arch: 'i386' })]);
    const h = (await host('52:54:00:aa:00:01'))!;
    expect(h.metadata.name).toBe('discovered-525400aa0001');
    expect(h.metadata.labels).toEqual({ 'anvil.dev/discovered': 'true', 'anvil.dev/arch': 'x86_64', 'anvil.dev/platform': 'efi' });
    expect(h.spec).toEqual({ bootMACAddress: '52:54:00:aa:00:01', bootMode: 'UEFI', architecture: 'amd64' });
    expect(h.status?.discovery).toEqual({ firstSeen: new Date(T0).toISOString(), clientIP: '10.0.0.5', arch: 'x86_64', platform: 'efi', manufacturer: 'QEMU' });
    expect(client.writes).toEqual(['create BareMetalHost metal/discovered-525400aa0001', 'patch BareMetalHost metal/discovered-525400aa0001 status']);
    expect(sink.counts).toMatchObject({ created: 1 });
  });

  it('makes no second object however often the machine boots, also after a restart of the boot-server', async () => {
    const { client, sink } = setup();
    await sink.ship([boot('52:54:00:aa:00:02')]);
    await sink.ship([boot('52:54:00:aa:00:02', T0 + 60_000)]);
    const restarted = new DiscoveredHostSink(client, silentLogger(), { namespace: NS, scope: [], createsPerMinute: 30 });
    await restarted.ship([boot('52:54:00:aa:00:02', T0 + 120_000)]);
    expect((await client.list(AnvilResources.bareMetalHost)).items).toHaveLength(1);
    // the restarted sink found it (409) with its facts written: nothing more to write
    expect(client.writes.filter((w) => w.startsWith('create') || w.endsWith('status'))).toHaveLength(2);
    expect(restarted.counts.created).toBe(0);
  });

  it('writes the facts of a host whose creation succeeded but whose facts were not written (a crash in between)', async () => {
    const { client, sink, host } = setup();
    await client.create<Host>(AnvilResources.bareMetalHost, {
      apiVersion: 'anvil.dev/v1alpha1', kind: 'BareMetalHost',
      metadata: { name: discoveredHostName('52:54:00:aa:00:03'), namespace: NS, labels: { 'anvil.dev/discovered': 'true' } },
      spec: { bootMACAddress: '52:54:00:aa:00:03' },
    });
    await sink.ship([boot('52:54:00:aa:00:03')]);
    expect((await host('52:54:00:aa:00:03'))!.status?.discovery?.manufacturer).toBe('QEMU');
  });

  it('leaves alone a MAC a host declares (its boot config not published yet) and a name another host took', async () => {
    const { client, sink } = setup({ scope: [NS, 'other'] });
    await client.create<Host>(AnvilResources.bareMetalHost, { apiVersion: 'anvil.dev/v1alpha1', kind: 'BareMetalHost', metadata: { name: 'rack-1', namespace: 'other' }, spec: { bootMACAddress: '52-54-00-AA-00-04' } });
    await client.create<Host>(AnvilResources.bareMetalHost, { apiVersion: 'anvil.dev/v1alpha1', kind: 'BareMetalHost', metadata: { name: discoveredHostName('52:54:00:aa:00:05'), namespace: NS }, spec: { bootMACAddress: '52:54:00:ff:ff:ff' } });
    const before = client.writes.length;
    await sink.ship([boot('52:54:00:aa:00:04'), boot('52:54:00:aa:00:05')]);
    expect(client.writes.slice(before)).toEqual([]);
    expect(sink.counts).toMatchObject({ created: 0, declared: 1, refused: 1 });
  });

  it('ignores known hosts and installer events, and takes the facts as the first boot sent them', async () => {
    const { client, sink, host } = setup();
    const known: BootRequestRecord = { ...boot('52:54:00:aa:00:06'), host: { namespace: NS, name: 'x', uid: 'u' }, served: 'InstallScript' };
    await sink.ship([known, boot('52:54:00:aa:00:07', T0, {})] as SpoolRecord[]);
    expect((await client.list(AnvilResources.bareMetalHost)).items.map((h) => h.metadata.name)).toEqual(['discovered-525400aa0007']);
    expect((await host('52:54:00:aa:00:07'))!.status?.discovery).toEqual({ firstSeen: new Date(T0).toISOString(), clientIP: '10.0.0.5' });
    expect((await host('52:54:00:aa:00:07'))!.metadata.labels).toEqual({ 'anvil.dev/discovered': 'true' });
    expect((await host('52:54:00:aa:00:07'))!.spec).toEqual({ bootMACAddress: '52:54:00:aa:00:07' });
    await sink.ship([boot('52:54:00:aa:00:0a', T0, { arch: 'i386', platform: 'pcbios' })]);
    expect((await host('52:54:00:aa:00:0a'))!.spec).toEqual({ bootMACAddress: '52:54:00:aa:00:0a', bootMode: 'legacy', architecture: 'amd64' });
  });

  it('creates at most the rate a minute and the budget per source address; the rest on a later boot', async () => {
    const { client, sink } = setup({ createsPerMinute: 2 });
    const macs = ['01', '02', '03', '04'].map((n) => `52:54:00:bb:00:${n}`);
    await sink.ship(macs.map((m, i) => boot(m, T0, undefined, `10.0.1.${i}`)));
    expect((await client.list(AnvilResources.bareMetalHost)).items).toHaveLength(2);
    expect(sink.counts).toMatchObject({ created: 2, deferred: 2 });
    // a minute later the same machines boot again: the two others are created
    await sink.ship(macs.map((m, i) => boot(m, T0 + 60_000, undefined, `10.0.1.${i}`)));
    expect((await client.list(AnvilResources.bareMetalHost)).items).toHaveLength(4);

    // one address inventing MACs is held to its budget (32 an hour), however high the rate
    const flood = setup({ createsPerMinute: 10_000 });
    await flood.sink.ship(Array.from({ length: 100 }, (_, i) => boot(`52:54:00:cc:00:${i.toString(16).padStart(2, '0')}`, T0 + i)));
    expect((await flood.client.list(AnvilResources.bareMetalHost)).items).toHaveLength(32);
    expect(flood.sink.counts.deferred).toBe(68);
  });

  it('throws on what may pass (the shipper tries again) and counts what will not', async () => {
    const { client, sink } = setup();
    const create = client.create.bind(client);
    client.create = async () => {
      throw new ApiError(503, 'ServiceUnavailable', 'etcd is down');
    };
    await expect(sink.ship([boot('52:54:00:aa:00:08')])).rejects.toThrow(/etcd is down/);
    client.create = async () => {
      throw new ApiError(403, 'Forbidden', 'cannot create baremetalhosts');
    };
    await sink.ship([boot('52:54:00:aa:00:09')]);
    expect(sink.counts.refused).toBe(1);
    client.create = create;
    // the MAC whose creation failed for the moment is created when the batch comes again
    await sink.ship([boot('52:54:00:aa:00:08')]);
    expect(sink.counts.created).toBe(1);
  });
});

describe('CreationRate', () => {
  it('refills by the records\' own times, up to a minute\'s worth', () => {
    const rate = new CreationRate(2);
    expect([rate.take(0), rate.take(0), rate.take(0)]).toEqual([true, true, false]);
    expect([rate.take(30_000), rate.take(30_000)]).toEqual([true, false]);
    expect([rate.take(600_000), rate.take(600_000), rate.take(600_000)]).toEqual([true, true, false]);
    // an older record (shipped again after a crash) gets no tokens back
    expect(rate.take(1000)).toBe(false);
  });
});
