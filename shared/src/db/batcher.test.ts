import { describe, it, expect, jest } from '@jest/globals';
import { HistoryBatcher, HistoryQueueFullError } from './batcher.js';
import { MemoryHistoryStore } from './memory-store.js';
import type { InstallerEventInput } from './history-store.js';

const id = '00000000-0000-4000-8000-000000000001';
const event = (i: number): InstallerEventInput => ({ installationId: id, event: { name: `e${i}`, event_type: 'info', timestamp: 1_700_000_000 + i }, receivedAt: new Date(1_700_000_000_000 + i) });

describe('HistoryBatcher', () => {
  it('writes a batch when it is full, in order, one write at a time', async () => {
    const store = new MemoryHistoryStore();
    const spy = jest.spyOn(store, 'recordInstallerEvents');
    const b = new HistoryBatcher(store, { maxBatch: 3, maxDelayMs: 60_000 });
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => b.addEvent(event(i))));
    expect(spy.mock.calls.map((c) => c[0].length)).toEqual([3, 3]);
    expect(store.events.map((e) => e.name)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
    await b.close();
  });

  it('writes a partial batch after maxDelayMs', async () => {
    jest.useFakeTimers();
    try {
      const store = new MemoryHistoryStore();
      const b = new HistoryBatcher(store, { maxBatch: 100, maxDelayMs: 500 });
      const done = b.addBootRequest({ time: new Date(0), mac: 'm', clientIp: 'i', path: '/p', served: 's' });
      await jest.advanceTimersByTimeAsync(499);
      expect(store.bootRequests.size).toBe(0);
      await jest.advanceTimersByTimeAsync(1);
      await done;
      expect(store.bootRequests.size).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('rejects the records of a failed write (the caller re-ships them) and goes on', async () => {
    const store = new MemoryHistoryStore();
    const b = new HistoryBatcher(store, { maxBatch: 2, maxDelayMs: 10 });
    store.failNext(new Error('database down'));
    const lost = [b.addEvent(event(1)), b.addEvent(event(2))];
    await expect(Promise.all(lost)).rejects.toThrow('database down');
    b.addEvent(event(3)); // ignoring the promise is fine
    await b.flush();
    expect(store.events.map((e) => e.name)).toEqual(['e3']);
    expect(b.stats()).toEqual({ pending: 0, written: 1, failed: 2 });
  });

  it('bounds what waits, and refuses records after close', async () => {
    const store = new MemoryHistoryStore();
    const b = new HistoryBatcher(store, { maxBatch: 2, maxPending: 2, maxDelayMs: 60_000 });
    const slow = jest.spyOn(store, 'recordInstallerEvents').mockImplementation(() => new Promise(() => undefined));
    void b.addEvent(event(1));
    void b.addEvent(event(2)); // being written (never finishes)
    void b.addEvent(event(3));
    void b.addEvent(event(4));
    await expect(b.addEvent(event(5))).rejects.toBeInstanceOf(HistoryQueueFullError);
    slow.mockRestore();
    const c = new HistoryBatcher(store);
    await c.close();
    await expect(c.addEvent(event(1))).rejects.toThrow(/closed/);
  });
});
