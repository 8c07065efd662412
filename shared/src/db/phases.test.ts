import { describe, it, expect } from '@jest/globals';
import { derivePhases, formatDuration, type TimelineEvent } from './phases.js';

const e = (t: number, name: string, eventType: string, result: string | null = null): TimelineEvent => ({ name, eventType, result, description: null, eventTime: new Date(t * 1000) });

describe('derivePhases', () => {
  it('pairs starts and finishes into nested phases with durations', () => {
    const phases = derivePhases([
      e(0, 'subiquity/Install/install', 'start'),
      e(5, 'subiquity/Install/install/partitioning', 'start'),
      e(3, 'subiquity/Early/run', 'info'),
      e(35, 'subiquity/Install/install/partitioning', 'finish', 'SUCCESS'),
      e(40, 'subiquity/Install/install/curthooks', 'start'),
      e(100, 'subiquity/Install/install', 'finish', 'FAIL'),
      e(101, 'late/orphan', 'finish', 'SUCCESS'),
    ]);
    expect(phases.map((p) => [p.name, p.depth, p.durationSeconds, p.result])).toEqual([
      ['subiquity/Install/install', 0, 100, 'FAIL'],
      ['subiquity/Install/install/partitioning', 1, 30, 'SUCCESS'],
      ['subiquity/Install/install/curthooks', 1, null, null],
      ['late/orphan', 0, null, 'SUCCESS'],
    ]);
  });

  it('formats durations', () => {
    expect([formatDuration(null), formatDuration(0.4), formatDuration(75), formatDuration(3725)]).toEqual(['-', '0s', '1m15s', '1h02m05s']);
  });
});

describe('derivePhases with equal timestamps', () => {
  it('ends one phase before the next begins, and starts a phase before its own finish', () => {
    const t = (s: number) => new Date(1_000_000 + s * 1000);
    const e = (name: string, eventType: string, s: number) => ({ name, eventType, result: eventType === 'finish' ? 'SUCCESS' : null, description: null, eventTime: t(s) });
    const phases = derivePhases([
      e('x/extract', 'start', 40), // delivered before the finish of the previous step, same second
      e('x/partitioning', 'finish', 40),
      e('x/partitioning', 'start', 10),
      e('x/quick', 'finish', 50),
      e('x/quick', 'start', 50),
      e('x/extract', 'finish', 340),
    ]);
    expect(phases.map((p) => [p.name, p.depth, p.durationSeconds])).toEqual([
      ['x/partitioning', 0, 30],
      ['x/extract', 0, 300],
      ['x/quick', 1, 0],
    ]);
  });
});
