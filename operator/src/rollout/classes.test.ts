import { describe, expect, it } from '@jest/globals';
import { changedParts, classifyChange, type InstallPayload } from './change-classes.js';
import { classifyRelease } from './release-classes.js';

const base: InstallPayload = {
  installer: 'ubuntu-autoinstall',
  config: { version: 1, identity: { hostname: 'n1' }, storage: { layout: { name: 'lvm' } }, 'late-commands': ['true'], packages: ['vim'] },
  boot: { kernel: { url: 'http://m/vmlinuz', sha256: 'a'.repeat(64) }, initrd: { url: 'http://m/initrd', sha256: 'b'.repeat(64) } },
  kernelArgs: ['autoinstall'],
};
const change = (patch: Partial<InstallPayload> & { config?: Record<string, unknown> }): InstallPayload => ({ ...base, ...patch, config: { ...base.config, ...patch.config } });

describe('template change classes', () => {
  it.each([
    ['nothing', change({}), 'none'],
    ['only the late-commands', change({ config: { 'late-commands': ['echo hi'] } }), 'post-install'],
    ['a package', change({ config: { packages: ['vim', 'htop'] } }), 'packages'],
    ['the identity', change({ config: { identity: { hostname: 'n2' } } }), 'system'],
    ['a key anvil does not know', change({ config: { 'new-thing': true } }), 'system'],
    ['the network', change({ config: { network: { version: 2 } } }), 'network'],
    ['the storage layout', change({ config: { storage: { layout: { name: 'direct' } } } }), 'storage'],
    ['the kernel', change({ boot: { ...base.boot, kernel: { url: 'http://m/vmlinuz', sha256: 'c'.repeat(64) } } }), 'installer'],
    ['the kernel arguments', change({ kernelArgs: ['autoinstall', 'quiet'] }), 'installer'],
    ['the installer kind', change({ installer: 'ignition' }), 'installer'],
  ])('%s: %s', (_what, after, expected) => {
    expect(classifyChange(base, after)).toBe(expected);
  });

  it('names every changed part with its class, the highest deciding', () => {
    const after = change({ config: { 'late-commands': ['x'], storage: { layout: { name: 'zfs' } } } });
    expect(changedParts(base, after)).toEqual([
      { path: 'autoinstall.late-commands', class: 'post-install' },
      { path: 'autoinstall.storage', class: 'storage' },
    ]);
    expect(classifyChange(base, after)).toBe('storage');
  });

  it('ignores the case of a checksum and the order of keys', () => {
    const upper = change({ boot: { kernel: { url: 'http://m/vmlinuz', sha256: 'A'.repeat(64) }, initrd: base.boot!.initrd } });
    expect(classifyChange(base, upper)).toBe('none');
    const reordered = { ...base, config: Object.fromEntries(Object.entries(base.config).reverse()) };
    expect(classifyChange(base, reordered)).toBe('none');
  });
});

describe('image release classes', () => {
  it.each([
    ['24.04.1', '24.04.2', 'patch'],
    ['24.04', '24.04.1', 'patch'],
    ['24.04.2', '24.10', 'minor'],
    ['24.04.2', '26.04', 'major'],
    ['12.9', '12.10', 'minor'],
    ['v4081.2.1', 'v4152.2.0', 'major'],
    ['24.04.2', '24.04.2', 'same'],
    ['24.04.2', '24.04.2-1', 'patch'],
    ['24.04.2', '24.04.1', 'downgrade'],
    ['noble', 'oracular', 'unknown'],
    ['noble', 'noble', 'same'],
  ])('%s -> %s is %s', (a, b, expected) => {
    expect(classifyRelease(a, b)).toBe(expected);
  });
});
