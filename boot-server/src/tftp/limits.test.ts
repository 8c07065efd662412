import { SessionLimits } from './limits.js';

function limits(maxSessions: number, maxSessionsPerClient: number): { l: SessionLimits; advance(ms: number): void } {
  let now = 1_000_000;
  const l = new SessionLimits({ maxSessions, maxSessionsPerClient, pressureMemoryMs: 10_000, now: () => now });
  return { l, advance: (ms) => void (now += ms) };
}

describe('TFTP session limits', () => {
  it('counts sessions per source address and refuses a source at its own cap while others still get slots', () => {
    const { l } = limits(10, 3);
    for (let i = 0; i < 3; i++) expect(l.admit('10.0.0.1')).toEqual({ ok: true });
    expect(l.admit('10.0.0.1')).toEqual({ ok: false, limit: 'client' });
    expect(l.admit('10.0.0.2')).toEqual({ ok: true });
    expect(l.sessionsOf('10.0.0.1')).toBe(3);
    expect(l.sessionsOf('10.0.0.2')).toBe(1);
    expect(l.total).toBe(4); // the refusal took nothing
    l.release('10.0.0.1');
    expect(l.admit('10.0.0.1')).toEqual({ ok: true });
  });

  it('refuses everybody at the global cap; a source at its own cap is told about its cap first', () => {
    const { l } = limits(4, 2);
    expect(['a', 'a', 'b', 'b'].map((s) => l.admit(s).ok)).toEqual([true, true, true, true]);
    expect(l.admit('c')).toEqual({ ok: false, limit: 'server' });
    expect(l.admit('a')).toEqual({ ok: false, limit: 'client' });
    l.release('b');
    expect(l.admit('c')).toEqual({ ok: true });
  });

  it('forgets a source with its last session (the table cannot grow with the number of sources seen)', () => {
    const { l } = limits(1000, 4);
    for (let i = 0; i < 500; i++) {
      const source = `10.0.${i >> 8}.${i & 255}`;
      l.admit(source);
      l.release(source);
    }
    expect(l.sourceCount).toBe(0);
    expect(l.total).toBe(0);
    l.release('never-admitted'); // a stray release changes nothing
    expect(l.total).toBe(0);
  });

  it('a per-client cap above the global cap is the global cap', () => {
    const { l } = limits(2, 50);
    expect(l.maxSessionsPerClient).toBe(2);
    expect([l.admit('a').ok, l.admit('a').ok, l.admit('a')]).toEqual([true, true, { ok: false, limit: 'client' }]);
  });

  it('no pressure while nobody is refused, however full the table', () => {
    const { l } = limits(4, 4);
    for (let i = 0; i < 4; i++) l.admit('a');
    expect(l.underPressure('a')).toBe(false);
  });

  it('a source refused for its own cap is under pressure for a while; other sources are not', () => {
    const { l, advance } = limits(100, 2);
    l.admit('flood');
    l.admit('flood');
    l.admit('pxe');
    expect(l.admit('flood').ok).toBe(false);
    expect(l.underPressure('flood')).toBe(true);
    expect(l.underPressure('pxe')).toBe(false);
    // Its sessions time out together: after the first is reclaimed it is below its cap, and still under pressure.
    l.release('flood');
    expect(l.underPressure('flood')).toBe(true);
    advance(10_000);
    expect(l.underPressure('flood')).toBe(false);
  });

  it('a "server busy" refusal puts every source under pressure for a while', () => {
    const { l, advance } = limits(2, 2);
    l.admit('a');
    l.admit('b');
    expect(l.admit('c')).toEqual({ ok: false, limit: 'server' });
    expect(l.underPressure('a')).toBe(true);
    expect(l.underPressure('b')).toBe(true);
    advance(9_999);
    expect(l.underPressure('a')).toBe(true);
    advance(1);
    expect(l.underPressure('a')).toBe(false);
  });
});
