import { DiscoveryBudget } from './discovery-budget.js';

const HOUR = 3_600_000;
const mac = (i: number) => `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

describe('DiscoveryBudget', () => {
  it('records at most perSource distinct MACs per source address and window, and a known MAC always', () => {
    const budget = new DiscoveryBudget({ perSource: 3, total: 100, windowMs: HOUR });
    const t = 10 * HOUR;
    expect([0, 1, 2, 3, 4].map((i) => budget.admit(mac(i), '10.0.0.1', t))).toEqual([true, true, true, false, false]);
    // Sightings of an admitted MAC add no row: always recorded, also from another address.
    expect(budget.admit(mac(1), '10.0.0.1', t + 1)).toBe(true);
    expect(budget.admit(mac(2), '10.0.0.9', t + 2)).toBe(true);
    // Another address has its own budget.
    expect(budget.admit(mac(3), '10.0.0.2', t + 3)).toBe(true);
    expect(budget.refused).toBe(2);
    expect(budget.takeNotice()).toEqual({ refused: 2 });
    expect(budget.takeNotice()).toBeUndefined();
    // The next window starts over.
    expect(budget.admit(mac(4), '10.0.0.1', t + HOUR)).toBe(true);
    expect(budget.takeNotice()).toBeUndefined();
  });

  it('records at most `total` distinct MACs per window from all addresses together', () => {
    const budget = new DiscoveryBudget({ perSource: 2, total: 10, windowMs: HOUR });
    const admitted = Array.from({ length: 50 }, (_, i) => budget.admit(mac(i), `10.0.${i}.1`, 0)).filter(Boolean).length;
    expect(admitted).toBe(10);
    expect(budget.refused).toBe(40);
    // A record from an earlier window (shipped late) counts against the current window.
    budget.admit(mac(100), '10.1.0.1', 5 * HOUR);
    expect(budget.admit(mac(101), '10.1.0.2', HOUR)).toBe(true);
  });
});
