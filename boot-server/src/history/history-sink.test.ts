import { MemoryHistoryStore } from '@anvil/core/db';
import { silentLogger } from '@anvil/core/logging';
import type { BootRequestRecord, InstallerEventRecord, SpoolRecord } from '../spool/records.js';
import { HistoryQueryError } from '@anvil/core/db';
import { HistorySink } from './history-sink.js';

const GOOD = '0b6a3c1e-4a1f-4c3e-9d2a-6f1e2d3c4b5a';
const host = { namespace: 'lab', name: 'node-1', uid: 'uid-1' };
const boot = (installationId: string): BootRequestRecord => ({
  kind: 'boot-request',
  time: '2026-12-01T10:00:00.000Z',
  mac: '52:54:00:00:00:01',
  clientIP: '10.0.0.9',
  path: '/boot.ipxe',
  served: 'install',
  host,
  installationId,
  install: { installationId, revision: 1, attempt: 1 },
});
const verdict = (installationId: string): InstallerEventRecord => ({
  kind: 'installer-event',
  receivedAt: '2026-12-01T10:05:00.000Z',
  mac: '52:54:00:00:00:01',
  host,
  installationId,
  install: { installationId, revision: 1, attempt: 1 },
  eventKey: `${installationId}|finish`,
  event: { name: 'subiquity/Install/install', event_type: 'finish', result: 'SUCCESS', timestamp: 1_796_000_000 },
  raw: {},
});

describe('HistorySink', () => {
  it('refuses records the store can never take as permanent errors; shipped one by one, the others are stored', async () => {
    const store = new MemoryHistoryStore();
    const sink = new HistorySink(store, silentLogger());
    // A hand-written boot config Secret with an installation id that is not a UUID, spooled before a good install.
    const batch: SpoolRecord[] = [boot('not-a-uuid'), verdict('not-a-uuid'), boot(GOOD), verdict(GOOD)];
    await expect(sink.ship(batch)).rejects.toBeInstanceOf(HistoryQueryError);
    // What the shipper does next (boot-server/src/spool/shipper.ts): each record alone; the refused ones are quarantined.
    const refused: SpoolRecord[] = [];
    for (const r of batch) await sink.ship([r]).catch((err: unknown) => (err instanceof HistoryQueryError ? refused.push(r) : Promise.reject(err)));
    expect(refused).toEqual([batch[0], batch[1]]);
    const stored = await store.getInstallation(GOOD);
    expect(stored).toMatchObject({ result: 'SUCCESS', attempt: 1 });
    // Shipping the same batch again (a retry after a crash) stores nothing twice and does not fail.
    await sink.ship([batch[2]!, batch[3]!]);
    expect((await store.listInstallerEvents(GOOD)).items).toHaveLength(1);
  });

  it('writes an installation\'s start once per process, not with every batch of its events', async () => {
    const store = new MemoryHistoryStore();
    const startsWritten: string[] = [];
    const recordInstallsStarted = store.recordInstallsStarted.bind(store);
    store.recordInstallsStarted = async (starts) => {
      startsWritten.push(...starts.map((s) => s.installationId));
      return recordInstallsStarted(starts);
    };
    const sink = new HistorySink(store, silentLogger());
    const event = (installationId: string, n: number): InstallerEventRecord => ({ ...verdict(installationId), eventKey: `${installationId}|${n}`, event: { name: 'subiquity/Install/install/extract', event_type: 'start', timestamp: 1_796_000_000 + n } });
    await sink.ship([event(GOOD, 1), event(GOOD, 2)]);
    await sink.ship([event(GOOD, 3)]);
    await sink.ship([event(GOOD, 4)]);
    expect(startsWritten).toEqual([GOOD]);
    expect((await store.listInstallerEvents(GOOD)).items).toHaveLength(4);
    // A batch with a start the store refuses is not remembered (which one was refused is not known): tried again.
    await expect(sink.ship([event('not-a-uuid', 1)])).rejects.toBeInstanceOf(HistoryQueryError);
    await expect(sink.ship([event('not-a-uuid', 2)])).rejects.toBeInstanceOf(HistoryQueryError);
    expect(startsWritten).toEqual([GOOD, 'not-a-uuid', 'not-a-uuid']);
  });

  it('throws what is not the record\'s fault, so the batch is retried', async () => {
    const store = new MemoryHistoryStore();
    store.recordInstallStarted = async () => {
      throw new Error('connection refused');
    };
    const sink = new HistorySink(store, silentLogger());
    await expect(sink.ship([boot(GOOD)])).rejects.toThrow('connection refused');
  });
});
