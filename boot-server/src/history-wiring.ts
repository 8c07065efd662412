// Opens the install history the spool ships to: PostgreSQL/CockroachDB with --database-url, otherwise the embedded
// database in --data-dir (owned by the boot-server: it is the one process that writes most, and runs as one replica).
import type { Logger } from 'pino';
import { openHistoryStore, type HistoryStore } from '@anvil/core/db';
import type { BootServerConfig } from './config.js';
import { HistorySink } from './history/history-sink.js';

/**
 * Node flags the embedded database needs to fit a pod's memory (docs/benchmarks.md, "Memory"). PGlite's WebAssembly
 * stays on Liftoff, V8's baseline compiler: its optimizing compiler takes about 600 MB for several seconds to
 * compile one of PostgreSQL's largest functions once it runs hot, a few seconds after every start. And the young
 * generation is capped: V8 sizes it from the memory it sees (128 MB under a 1 GiB limit or on a large machine).
 */
export const EMBEDDED_DATABASE_NODE_FLAGS = ['--liftoff-only', '--max-semi-space-size=8'];

/**
 * With the embedded database, replaces this process by node with EMBEDDED_DATABASE_NODE_FLAGS (same pid, same
 * arguments) unless it was started with them: V8 reads these flags only at start, and the boot-server should fit
 * however it is launched. Call first thing, before anything is opened or written (pending output would be lost).
 */
export function restartWithEmbeddedDatabaseFlags(config: Pick<BootServerConfig, 'databaseURL'>, env: NodeJS.ProcessEnv = process.env): void {
  if (config.databaseURL || typeof process.execve !== 'function') return;
  const missing = missingNodeFlags(process.execArgv, env.NODE_OPTIONS);
  if (missing.length) process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)], env);
}

/** The embedded database's flags not given on node's command line or in NODE_OPTIONS, either way (--no-liftoff-only counts). */
export function missingNodeFlags(execArgv: readonly string[], nodeOptions = ''): string[] {
  const name = (arg: string): string => arg.replace(/=.*$/, '').replace(/^--no-/, '--').replace(/_/g, '-');
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map(name));
  return EMBEDDED_DATABASE_NODE_FLAGS.filter((flag) => !given.has(name(flag)));
}

export async function openHistorySink(
  config: Pick<BootServerConfig, 'databaseURL' | 'dataDir'>,
  log: Logger,
): Promise<{ sink: HistorySink; store: HistoryStore; describe: string; close(): Promise<void> }> {
  const store = await openHistoryStore({ ...(config.databaseURL ? { databaseUrl: config.databaseURL } : {}), dataDir: config.dataDir, log: log.child({ component: 'history' }), applicationName: 'anvil-boot-server' });
  return { sink: new HistorySink(store, log.child({ sink: 'history' })), store, describe: store.describe, close: () => store.close() };
}
