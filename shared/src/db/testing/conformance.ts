// The behaviour every HistoryStore must have, as a jest suite run against the in-memory store and PGlite (unit
// tests) and real PostgreSQL (test/integration/history-store.test.ts). The jest functions are passed in, so this
// module has no runtime dependency on jest. The cases live by concern in *-cases.ts, their data in fixtures.ts.
import type { HistoryStore } from '../history-store.js';
import { installerEventCases } from './event-cases.js';
import { installationCases } from './installation-cases.js';
import type { Jest } from './fixtures.js';
import { machineAndBuildCases } from './machine-cases.js';

export { at, ev, partitioningFailure, started, uuid, type Jest } from './fixtures.js';

export interface StoreFixture {
  store: HistoryStore;
  /** Empties every table. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export function historyStoreConformance(j: Jest, name: string, open: () => Promise<StoreFixture>): void {
  const { describe, beforeAll, afterAll, beforeEach } = j;
  describe(`HistoryStore conformance: ${name}`, () => {
    let fx: StoreFixture;
    beforeAll(async () => {
      fx = await open();
    });
    afterAll(async () => {
      await fx?.close();
    });
    beforeEach(async () => {
      await fx.reset();
    });
    const current = () => fx.store;
    installationCases(j, current);
    installerEventCases(j, current);
    machineAndBuildCases(j, current);
  });
}
