// Opens the install-history sink the spool ships to (PostgreSQL/CockroachDB, or the embedded database).
import type { Logger } from 'pino';
import type { BootServerConfig } from './config.js';
import type { Sink } from './spool/shipper.js';
import type { SpoolRecord } from './spool/records.js';

export async function openHistorySink(_config: BootServerConfig, log: Logger): Promise<{ sink: Sink<SpoolRecord>; describe: string; close(): Promise<void> } | undefined> {
  log.warn('the install history is not wired yet in this build; events are reflected into host status only');
  return undefined;
}
