import { MemoryHistoryStore } from '@anvil/core/db';
import { silentLogger } from '@anvil/core/logging';
import { startRetention } from './retention.js';

describe('history retention', () => {
  it('prunes events and boot requests older than the retention window and keeps installations', async () => {
    const store = new MemoryHistoryStore();
    const id = '00000000-0000-4000-8000-000000000001';
    await store.recordInstallStarted({ installationId: id, host: { namespace: 'n', name: 'h', uid: 'u' }, mac: '52:54:00:00:00:01', revision: 1, attempt: 1, startedAt: '2026-01-01T00:00:00Z' });
    await store.recordInstallerEvents([
      { installationId: id, event: { name: 'old', event_type: 'start', timestamp: Date.parse('2026-01-01T00:00:00Z') / 1000 }, receivedAt: '2026-01-01T00:00:00Z' },
      { installationId: id, event: { name: 'new', event_type: 'start', timestamp: Date.parse('2026-03-30T00:00:00Z') / 1000 }, receivedAt: '2026-03-30T00:00:00Z' },
    ]);
    const retention = startRetention(store, { days: 30, now: () => new Date('2026-04-01T00:00:00Z'), firstRunMs: 1e9 }, silentLogger());
    await retention.runOnce();
    retention.stop();
    const events = await store.listInstallerEvents(id);
    expect(events.items.map((e) => e.name)).toEqual(['new']);
    expect(await store.getInstallation(id)).toBeDefined();
  });
});
