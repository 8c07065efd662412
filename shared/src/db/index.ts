// The install history: schema, port, stores, migrations. See docs/history.md.
export * from './history-store.js';
export type { SqlDatabase, Db, DatabaseKind } from './database.js';
export { SqlHistoryStore, type SqlHistoryStoreOptions } from './sql-store.js';
export { MemoryHistoryStore } from './memory-store.js';
export { HistoryBatcher, HistoryQueueFullError, type HistoryBatcherOptions } from './batcher.js';
export { openHistoryStore, openDatabase, type OpenHistoryStoreOptions, type OpenDatabaseOptions } from './open.js';
export { migrate, type MigrateOptions, type MigrateResult } from './migrate.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export { withSerializableRetry, isRetryableSerializationError, sqlState, type RetryOptions } from './retry.js';
export { HistoryQueryError, isUuid } from './store-util.js';
export { deriveFailure, derivePhases, formatDuration, normalizePhaseName, type DerivedFailure, type Phase, type TimelineEvent } from './phases.js';
export * as schema from './schema.js';
