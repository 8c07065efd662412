import { silentLogger } from '../../../shared/src/logging.js';
import type { KubeClient } from '../../../shared/src/kube/index.js';
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
});
