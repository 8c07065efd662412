// Opens the install history the spool ships to: PostgreSQL/CockroachDB with --database-url, otherwise the embedded
// database in --data-dir (owned by the boot-server: it is the one process that writes most, and runs as one replica).
import type { Logger } from 'pino';
import { openHistoryStore } from '../../shared/src/db/open.js';
import type { HistoryStore } from '../../shared/src/db/history-store.js';
import type { BootServerConfig } from './config.js';
import { HistorySink } from './history/history-sink.js';

export async function openHistorySink(
  config: Pick<BootServerConfig, 'databaseURL' | 'dataDir'>,
  log: Logger,
): Promise<{ sink: HistorySink; store: HistoryStore; describe: string; close(): Promise<void> }> {
  const store = await openHistoryStore({ ...(config.databaseURL ? { databaseUrl: config.databaseURL } : {}), dataDir: config.dataDir, log: log.child({ component: 'history' }), applicationName: 'anvil-boot-server' });
  return { sink: new HistorySink(store, log.child({ sink: 'history' })), store, describe: store.describe, close: () => store.close() };
}
