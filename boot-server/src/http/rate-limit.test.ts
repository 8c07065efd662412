import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst, then the sustained rate, per address', () => {
    let t = 0;
    const rl = new RateLimiter({ perSecond: 10, burst: 3 }, () => t);
    expect([rl.take('a'), rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([true, true, true, false]);
    expect(rl.take('b')).toBe(true); // another address is not affected
    t += 100; // 0.1 s at 10/s: one more
    expect([rl.take('a'), rl.take('a')]).toEqual([true, false]);
    expect(rl.limited).toBe(2);
  });

  it('is off at 0 and bounded in the addresses it remembers', () => {
    expect(new RateLimiter({ perSecond: 0, burst: 0 }).take('a')).toBe(true);
    const rl = new RateLimiter({ perSecond: 1, burst: 1, maxAddresses: 100 }, () => 0);
    for (let i = 0; i < 1000; i++) rl.take(`10.0.${i >> 8}.${i & 255}`);
    expect(rl.size).toBe(100);
  });
});
