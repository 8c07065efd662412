// Per-source-address token buckets for the requests anyone on the boot network can make without a token: one
// address cannot flood the history with boot requests of invented MACs, guess tokens at speed, or starve others.
// Requests carrying a valid install token are not counted (an installer's event stream must never be refused).

export interface RateLimitOptions {
  /** Sustained requests per second per address; 0 disables limiting. */
  perSecond: number;
  /** Requests an address may make at once before the rate applies. */
  burst: number;
  /** Addresses tracked at most (idle, full buckets are forgotten first). */
  maxAddresses?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  limited = 0;

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get enabled(): boolean {
    return this.options.perSecond > 0;
  }

  /** Takes one request from the address's bucket; false means "too many": answer 429. */
  take(address: string): boolean {
    if (!this.enabled) return true;
    const now = this.now();
    let b = this.buckets.get(address);
    if (b) {
      b.tokens = Math.min(this.options.burst, b.tokens + ((now - b.at) / 1000) * this.options.perSecond);
      b.at = now;
      this.buckets.delete(address); // re-inserted below: the map stays in least-recently-used order
    } else {
      b = { tokens: this.options.burst, at: now };
      this.evictIfFull();
    }
    this.buckets.set(address, b);
    if (b.tokens < 1) {
      this.limited++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }

  /** Seconds until the address may ask again (for Retry-After). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(1 / this.options.perSecond));
  }

  get size(): number {
    return this.buckets.size;
  }

  private evictIfFull(): void {
    const max = this.options.maxAddresses ?? 65_536;
    if (this.buckets.size < max) return;
    this.buckets.delete(this.buckets.keys().next().value!);
  }
}
