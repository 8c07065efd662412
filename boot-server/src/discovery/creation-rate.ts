// A token bucket over the records' own times: at most `perMinute` creations a minute, up to a minute's worth at once.
// Record times (not the clock) keep a batch shipped again after a crash judged the same way, and tests exact.

export class CreationRate {
  private tokens: number;
  private last = -Infinity;

  constructor(private readonly perMinute: number) {
    this.tokens = perMinute;
  }

  take(timeMs: number): boolean {
    if (Number.isFinite(this.last) && timeMs > this.last) this.tokens = Math.min(this.perMinute, this.tokens + ((timeMs - this.last) / 60_000) * this.perMinute);
    this.last = Math.max(this.last, timeMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
