import { silentLogger } from '@anvil/core/logging';
import type { KubeClient } from '@anvil/core/kube';
import type { InstallerEventRecord } from '../spool/records.js';
import { HostStatusSink } from './host-status-sink.js';

describe('HostStatusSink', () => {
  it('writes the newest event, the latest stage and the verdict of a batch, whatever the timestamps say', async () => {
    const patches: unknown[] = [];
    const client = { patch: async (_t: unknown, _k: unknown, _type: unknown, body: unknown) => void patches.push(body) } as unknown as KubeClient;
    const sink = new HostStatusSink(client, silentLogger());
    const rec = (name: string, event_type: string, timestamp: number, result?: string): InstallerEventRecord => ({
      kind: 'installer-event',
      receivedAt: '2026-01-01T00:00:00.000Z',
      mac: '52:54:00:00:00:01',
      host: { namespace: 'n', name: 'h', uid: 'u' },
      installationId: 'id-1',
      eventKey: `${name}|${event_type}|${timestamp}`,
      event: { name, event_type, timestamp, ...(result ? { result } : {}) },
      raw: {},
    });
    await sink.ship([
      rec('subiquity/Install/install/curthooks', 'finish', 100.9, 'SUCCESS'),
      rec('subiquity/Install/install/postinstall', 'start', 100.9),
      rec('subiquity/Install/install', 'finish', 100.9, 'SUCCESS'),
    ]);
    const ops = patches[0] as { op: string; path: string; value?: unknown }[];
    expect(ops[0]).toEqual({ op: 'test', path: '/status/currentInstall/installationId', value: 'id-1' });
    expect(ops.find((o) => o.path.endsWith('/lastEvent'))?.value).toMatchObject({ name: 'subiquity/Install/install', result: 'SUCCESS' });
    expect(ops.find((o) => o.path.endsWith('/result'))?.value).toBe('SUCCESS');
    expect(ops.find((o) => o.path.endsWith('/phase'))?.value).toBe('complete');
  });

  it('patches different hosts concurrently but one host in order, and still throws a failed patch for a retry', async () => {
    const log: string[] = [];
    let releaseSlow!: () => void;
    const slow = new Promise<void>((resolve) => (releaseSlow = resolve));
    let failOnce = true;
    const client = {
      patch: async (_t: unknown, key: { name: string }, _type: unknown, body: { path: string }[]) => {
        const what = body.some((o) => o.path.includes('lastBootRequest')) ? 'boot' : 'events';
        log.push(`${key.name}:${what}:start`);
        // The slow host's first patch waits until another host's patch has finished: a sequential sink never gets there.
        if (key.name === 'slow' && what === 'boot') await slow;
        if (key.name === 'broken' && failOnce) {
          failOnce = false;
          throw new Error('apiserver unavailable');
        }
        if (key.name === 'fast') releaseSlow();
        log.push(`${key.name}:${what}:end`);
      },
    } as unknown as KubeClient;
    const sink = new HostStatusSink(client, silentLogger(), 4);
    const boot = (name: string) => ({ kind: 'boot-request' as const, time: '2026-01-01T00:00:00.000Z', mac: '52:54:00:00:00:01', clientIP: '10.0.0.9', path: '/boot.ipxe', served: 'install', host: { namespace: 'n', name, uid: name } });
    const event = (name: string): InstallerEventRecord => ({
      kind: 'installer-event',
      receivedAt: '2026-01-01T00:00:01.000Z',
      mac: '52:54:00:00:00:01',
      host: { namespace: 'n', name, uid: name },
      installationId: `id-${name}`,
      eventKey: `${name}|start|1`,
      event: { name: 'subiquity/Install', event_type: 'start', timestamp: 1 },
      raw: {},
    });
    const batch = [boot('slow'), event('slow'), boot('broken'), boot('fast'), event('fast')] as never[];
    await expect(sink.ship(batch)).rejects.toThrow('apiserver unavailable');
    // Per host, the boot request is reflected before that host's events.
    expect(log.indexOf('slow:events:start')).toBeGreaterThan(log.indexOf('slow:boot:end'));
    expect(log.indexOf('fast:events:start')).toBeGreaterThan(log.indexOf('fast:boot:end'));
    // Every host was attempted although one failed; the retried batch succeeds.
    expect(log).toEqual(expect.arrayContaining(['slow:events:end', 'fast:events:end', 'broken:boot:start']));
    await expect(sink.ship(batch)).resolves.toBeUndefined();
    expect(log.filter((l) => l === 'broken:boot:end')).toHaveLength(1);
  });
});
