import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import { openPglite } from './drivers/pglite.js';
import { MemoryHistoryStore } from './memory-store.js';
import { historyStoreConformance } from './testing/conformance.js';
import { sqlFixture } from './testing/sql-fixture.js';

const j = { describe, it, expect, beforeAll, afterAll, beforeEach };

historyStoreConformance(j, 'in memory', async () => {
  const store = new MemoryHistoryStore();
  return { store, reset: async () => store.clear(), close: () => store.close() };
});

historyStoreConformance(j, 'PGlite', async () => sqlFixture(await openPglite({ dataDir: 'memory://' })));
