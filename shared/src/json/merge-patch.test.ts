import { applyMergePatch, createMergePatch } from './merge-patch.js';

describe('merge patch', () => {
  it('is undefined when nothing changed', () => {
    expect(createMergePatch({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 2] } })).toBeUndefined();
  });

  it('round-trips changes, removals and arrays', () => {
    const before = { a: 1, b: { c: 2, d: 3 }, e: [1], f: 'x' };
    const after = { a: 2, b: { c: 2 }, e: [1, 2], g: { h: true } };
    const patch = createMergePatch(before, after);
    expect(patch).toEqual({ a: 2, b: { d: null }, e: [1, 2], f: null, g: { h: true } });
    expect(applyMergePatch(before, patch)).toEqual(after);
  });
});
