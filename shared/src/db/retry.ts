// Transaction retries, as CockroachDB's client guidance asks: a SERIALIZABLE transaction that fails with SQLSTATE
// 40001 (serialization_failure, "restart transaction") is rolled back and run again from the start, after an
// exponentially growing, fully jittered delay. PostgreSQL's SSI raises the same code, and deadlocks (40P01) are
// retried the same way.

export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01']);

/** The SQLSTATE of an error from pg, PGlite or drizzle (which wraps driver errors in `cause`). */
export function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const isRetryableSerializationError = (err: unknown): boolean => RETRYABLE_SQLSTATES.has(sqlState(err) ?? '');

export interface RetryOptions {
  /** Attempts in all, the first included (default 10). */
  maxAttempts?: number;
  /** First backoff ceiling in ms (default 10); doubles per retry. */
  baseDelayMs?: number;
  /** Backoff ceiling in ms (default 2000). */
  maxDelayMs?: number;
  /** Called before each retry with the error and the attempt that failed (1-based). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const backoffDelay = (attempt: number, base: number, max: number, random: () => number): number =>
  Math.floor(random() * Math.min(max, base * 2 ** (attempt - 1)));

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs fn until it succeeds, fails with a non-retryable error, or maxAttempts is reached. */
export async function withSerializableRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const max = opts.maxAttempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= max || !isRetryableSerializationError(err)) throw err;
      const delay = backoffDelay(attempt, opts.baseDelayMs ?? 10, opts.maxDelayMs ?? 2000, opts.random ?? Math.random);
      opts.onRetry?.(err, attempt, delay);
      await (opts.sleep ?? defaultSleep)(delay);
    }
  }
}
