/** Per-item exponential backoff, like client-go's ItemExponentialFailureRateLimiter (5 ms .. 1000 s by default). */
export class ItemExponentialBackoff<K = string> {
  private readonly failures = new Map<K, number>();

  constructor(
    readonly baseDelayMs = 5,
    readonly maxDelayMs = 1_000_000,
  ) {}

  /** Records one more failure for the item and returns how long to wait before retrying it. */
  when(item: K): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    const delay = this.baseDelayMs * 2 ** n;
    return Number.isFinite(delay) ? Math.min(delay, this.maxDelayMs) : this.maxDelayMs;
  }

  retries(item: K): number {
    return this.failures.get(item) ?? 0;
  }

  forget(item: K): void {
    this.failures.delete(item);
  }
}
