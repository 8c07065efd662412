import { MemoryHistoryStore } from '../../../shared/src/db/memory-store.js';
import { silentLogger } from '../../../shared/src/logging.js';
import type { BootRequestRecord, InstallerEventRecord, SpoolRecord } from '../spool/records.js';
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
  it('drops records the store can never take and still stores the rest of the batch', async () => {
    const store = new MemoryHistoryStore();
    const sink = new HistorySink(store, silentLogger());
    // A hand-written boot config Secret with an installation id that is not a UUID, spooled before a good install.
    const batch: SpoolRecord[] = [boot('not-a-uuid'), verdict('not-a-uuid'), boot(GOOD), verdict(GOOD)];
    await sink.ship(batch);
    expect(sink.dropped).toBe(1);
    const stored = await store.getInstallation(GOOD);
    expect(stored).toMatchObject({ result: 'SUCCESS', attempt: 1 });
    // Shipping the same batch again (a retry after a crash) stores nothing twice and does not fail.
    await sink.ship(batch);
    expect((await store.listInstallerEvents(GOOD)).items).toHaveLength(1);
  });

  it('throws what is not the record\'s fault, so the batch is retried', async () => {
    const store = new MemoryHistoryStore();
    store.recordInstallStarted = async () => {
      throw new Error('connection refused');
    };
    const sink = new HistorySink(store, silentLogger());
    await expect(sink.ship([boot(GOOD)])).rejects.toThrow('connection refused');
    expect(sink.dropped).toBe(0);
  });
});
