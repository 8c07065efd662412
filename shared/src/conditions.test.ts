import { mergeConditionChanges, setCondition } from './conditions.js';

describe('conditions', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T00:05:00Z');

  it('moves lastTransitionTime only when the status flips', () => {
    let c = setCondition([], { type: 'Ready', status: 'False', reason: 'Waiting', message: 'a' }, 1, t0);
    c = setCondition(c, { type: 'Ready', status: 'False', reason: 'StillWaiting', message: 'b' }, 2, t1);
    expect(c[0]).toEqual({ type: 'Ready', status: 'False', reason: 'StillWaiting', message: 'b', observedGeneration: 2, lastTransitionTime: '2026-01-01T00:00:00Z' });
    c = setCondition(c, { type: 'Ready', status: 'True', reason: 'Done' }, 2, t1);
    expect(c[0]?.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
    expect(c).toHaveLength(1);
  });

  it('merges one writer’s condition changes into the latest list without dropping others', () => {
    const before = setCondition([], { type: 'A', status: 'False', reason: 'x' }, 1, t0);
    const after = setCondition(before, { type: 'A', status: 'True', reason: 'y' }, 1, t1);
    const latest = setCondition(before, { type: 'B', status: 'True', reason: 'other' }, 1, t1);
    const merged = mergeConditionChanges(before, after, latest);
    expect(merged.map((c) => `${c.type}=${c.status}`).sort()).toEqual(['A=True', 'B=True']);
  });
});
