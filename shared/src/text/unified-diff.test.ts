import { unifiedDiff } from './unified-diff.js';

describe('unified diff', () => {
  it('prints hunks with context like diff -u, removals before additions', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'].join('\n') + '\n';
    const after = ['a', 'b', 'c', 'D', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'].join('\n') + '\n';
    expect(unifiedDiff(before, after, 'x', 'y')).toBe(['--- x', '+++ y', '@@ -1,7 +1,7 @@', ' a', ' b', ' c', '-d', '+D', ' e', ' f', ' g', '@@ -9,3 +9,4 @@', ' i', ' j', ' k', '+l', ''].join('\n'));
    expect(unifiedDiff('same\n', 'same\n', 'x', 'y')).toBe('');
    expect(unifiedDiff('', 'new\n', 'x', 'y')).toBe('--- x\n+++ y\n@@ -0,0 +1 @@\n+new\n');
  });
});
