// The SQL store inserts installer events as one array literal per column (unnest): every value must come back exactly
// as it went in, whatever characters the installer put in it.
import { openPglite } from './drivers/pglite.js';
import type { SqlHistoryStore } from './sql-store.js';
import { at, uuid } from './testing/conformance.js';
import { sqlFixture } from './testing/sql-fixture.js';

describe('SqlHistoryStore: installer events through array parameters', () => {
  let store: SqlHistoryStore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const fx = await sqlFixture(await openPglite({ dataDir: 'memory://' }));
    [store, close] = [fx.store, fx.close];
  });
  afterAll(() => close());

  it('stores every string exactly: quotes, backslashes, braces, commas, the word NULL, empty strings, unicode; absent values as NULL', async () => {
    const awkward = ['"quoted"', 'back\\slash\\', '{braces},', 'NULL', '', '  spaced  ', 'tab\there\nnewline', 'ünïcödé ✓ 🚀', "it's", '\\"'];
    const events = awkward.map((text, i) => ({
      installationId: uuid(7),
      eventKey: `key ${text} ${i}`,
      event: { name: `subiquity/${text}`, event_type: 'start', description: text, origin: i % 2 ? text : undefined, timestamp: 1_800_000_000 + i / 1000 },
      raw: { text, nested: { list: [text, null, 1.5] } },
      receivedAt: at(i),
    }));
    expect(await store.recordInstallerEvents(events)).toEqual({ inserted: awkward.length, invalid: 0 });
    expect(await store.recordInstallerEvents(events)).toEqual({ inserted: 0, invalid: 0 }); // idempotent
    const stored = (await store.listInstallerEvents(uuid(7), { limit: 100 })).items;
    expect(stored).toHaveLength(awkward.length);
    for (const [i, text] of awkward.entries()) {
      const row = stored.find((r) => r.eventKey === `key ${text} ${i}`);
      expect(row).toMatchObject({
        name: `subiquity/${text}`,
        description: text,
        origin: i % 2 ? text : null,
        result: null,
        eventTime: new Date((1_800_000_000 + i / 1000) * 1000),
        receivedAt: at(i),
        raw: { text, nested: { list: [text, null, 1.5] } },
      });
    }
  });
});
