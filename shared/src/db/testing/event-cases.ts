// Conformance cases for installer events: stored once per key, whatever the batches and writers, paged in time order.
import type { HistoryStore } from '../history-store.js';
import { HistoryQueryError } from '../store-util.js';
import { at, ev, uuid, type Jest } from './fixtures.js';

/** Registers the installer event cases in the enclosing describe; `current` is the store under test. */
export function installerEventCases(j: Jest, current: () => HistoryStore): void {
  const { it, expect, beforeEach } = j;
  let store: HistoryStore;
  beforeEach(() => {
    store = current();
  });

  it('stores a repeated installer event once, within a batch and across batches', async () => {
    const events = [ev(0, 'subiquity/Install/install', 'start'), ev(1, 'subiquity/Install/install/partitioning', 'start'), ev(2, 'subiquity/Install/install/partitioning', 'finish', { result: 'SUCCESS' })];
    const input = events.map((event) => ({ installationId: uuid(1), event, receivedAt: at(100) }));
    expect(await store.recordInstallerEvents([...input, input[0]!, input[1]!])).toEqual({ inserted: 3, invalid: 0 });
    expect(await store.recordInstallerEvents(input)).toEqual({ inserted: 0, invalid: 0 });
    expect(await store.recordInstallerEvents([{ installationId: 'nope', event: events[0]!, receivedAt: at(1) }, { installationId: uuid(1), event: events[0]!, receivedAt: 'garbage' }])).toEqual({ inserted: 0, invalid: 2 });
    // The same event for another installation is a different event.
    expect(await store.recordInstallerEvents([{ installationId: uuid(2), event: events[0]!, receivedAt: at(100) }])).toEqual({ inserted: 1, invalid: 0 });
    const page = await store.listInstallerEvents(uuid(1));
    expect(page.items.map((e) => `${e.name} ${e.eventType}`)).toEqual(events.map((e) => `${e.name} ${e.event_type}`));
    expect(page.nextCursor).toBeUndefined();
    expect(page.items[2]).toMatchObject({ result: 'SUCCESS', origin: 'subiquity', raw: { name: 'subiquity/Install/install/partitioning', result: 'SUCCESS' } });
    expect(page.items[0]!.eventTime.toISOString()).toBe(at(0).toISOString());
  });

  it('concurrent writers of overlapping batches store each event exactly once', async () => {
    const all = Array.from({ length: 60 }, (_, i) => ({ installationId: uuid(7), event: ev(i, `step/${i}`, 'info'), receivedAt: at(i) }));
    const writers = Array.from({ length: 6 }, (_, w) => all.filter((_, i) => (i + w) % 2 === 0 || i % 5 === w % 5));
    const results = await Promise.all(writers.map((batch) => store.recordInstallerEvents(batch)));
    const inserted = results.reduce((n, r) => n + r.inserted, 0);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listInstallerEvents(uuid(7), { limit: 7, cursor });
      seen.push(...page.items.map((e) => e.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(inserted).toBe(60);
    expect(seen).toEqual(all.map((a) => a.event.name));
  });

  it('pages installer events in event-time order with ties broken stably', async () => {
    const same = Array.from({ length: 9 }, (_, i) => ({ installationId: uuid(3), event: ev(5, `tie/${i}`, 'info'), eventKey: `k${i}`, receivedAt: at(5) }));
    await store.recordInstallerEvents([...same, { installationId: uuid(3), event: ev(1, 'early', 'info'), receivedAt: at(50) }]);
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.listInstallerEvents(uuid(3), { limit: 4, cursor });
      names.push(...page.items.map((e) => e.name));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(names[0]).toBe('early');
    expect(new Set(names).size).toBe(10);
    await expect(store.listInstallerEvents(uuid(3), { cursor: 'bm90IGEgY3Vyc29y' })).rejects.toBeInstanceOf(HistoryQueryError);
    await expect(store.listInstallerEvents(uuid(3), { limit: 0 })).rejects.toBeInstanceOf(HistoryQueryError);
  });

  it('keeps text with NUL characters storable', async () => {
    const r = await store.recordInstallerEvents([{ installationId: uuid(1), event: ev(1, 'x\u0000y', 'info', { description: 'a\u0000b' }), receivedAt: at(1) }]);
    expect(r.inserted).toBe(1);
    expect((await store.listInstallerEvents(uuid(1))).items[0]).toMatchObject({ name: 'xy', description: 'ab' });
  });
}
