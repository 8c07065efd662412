// A StoreFixture over a SqlDatabase: migrates, and empties the history tables between tests.
import type { SqlDatabase } from '../database.js';
import { migrate } from '../migrate.js';
import { SqlHistoryStore, type SqlHistoryStoreOptions } from '../sql-store.js';
import type { StoreFixture } from './conformance.js';

export const HISTORY_TABLES = ['installations', 'installer_events', 'boot_requests', 'discovered_machines', 'template_builds'] as const;

export async function sqlFixture(db: SqlDatabase, opts: SqlHistoryStoreOptions = {}): Promise<StoreFixture & { store: SqlHistoryStore }> {
  await migrate(db);
  const store = new SqlHistoryStore(db, opts);
  return {
    store,
    reset: () => db.exec(`TRUNCATE ${HISTORY_TABLES.join(', ')}`),
    close: () => store.close(),
  };
}
