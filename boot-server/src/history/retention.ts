// Retention: old installer events and boot requests are pruned on a schedule; installation summaries are kept.
import type { Logger } from 'pino';
import type { HistoryStore } from '@anvil/core/db';

export interface RetentionOptions {
  /** Keep this many days of events and boot requests; 0 keeps everything. */
  days: number;
  /** How often to prune (default 6 h); the first run is a minute after start. */
  everyMs?: number;
  firstRunMs?: number;
  now?: () => Date;
}

export function startRetention(store: Pick<HistoryStore, 'prune'>, options: RetentionOptions, log: Logger): { stop(): void; runOnce(): Promise<void> } {
  const runOnce = async (): Promise<void> => {
    if (options.days <= 0) return;
    const cutoff = new Date((options.now?.() ?? new Date()).getTime() - options.days * 86_400_000);
    try {
      const result = await store.prune(cutoff);
      log.info({ cutoff: cutoff.toISOString(), ...result }, 'pruned old history');
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'pruning the history failed; will try again');
    }
  };
  if (options.days <= 0) return { stop() {}, runOnce };
  const first = setTimeout(() => void runOnce(), options.firstRunMs ?? 60_000);
  const every = setInterval(() => void runOnce(), options.everyMs ?? 6 * 3_600_000);
  first.unref();
  every.unref();
  return {
    runOnce,
    stop() {
      clearTimeout(first);
      clearInterval(every);
    },
  };
}
