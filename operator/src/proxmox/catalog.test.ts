import { describe, it, expect } from '@jest/globals';
import { CATALOG, CATALOG_ALIASES, catalogEntry, resolveCatalogChecksum, unknownDistributionMessage, type CatalogEntry } from './catalog.js';
import { importFileName } from './checksums.js';

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/; // spec.source.distribution's pattern
const HEX = { sha256: /^[0-9a-f]{64}$/, sha512: /^[0-9a-f]{128}$/ };

/** A checksum file in the format the entry's source kind says, listing the image under `listedName`. */
function publishedFile(entry: CatalogEntry, value: string, listedName: string): string {
  const other = `${'0'.repeat(value.length)}  some-other-image.qcow2`;
  switch (entry.checksum.kind) {
    case 'SHA256SUMS':
      return `${other}\n${value} *${listedName}\n`;
    case 'SHA512SUMS':
      return `${value}  ${listedName}\n${other}\n`;
    case 'CHECKSUM':
      return `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n# ${listedName}: 1 bytes\nSHA256 (${listedName}) = ${value}\n-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n`;
    case 'per-file':
      return `${value}  ${listedName}\n`;
    case 'pinned':
      return '';
  }
}

describe('distribution catalog', () => {
  it('has at least 15 entries including the distributions the issue names', () => {
    expect(CATALOG.length).toBeGreaterThanOrEqual(15);
    const names = CATALOG.map((e) => e.name);
    for (const required of ['ubuntu-22.04', 'ubuntu-24.04', 'debian-12', 'debian-13', 'rocky-9', 'almalinux-9', 'centos-stream-9', 'centos-stream-10', 'opensuse-leap-15.6', 'opensuse-leap-16.0', 'opensuse-tumbleweed', 'archlinux', 'oracle-linux-9']) {
      expect(names).toContain(required);
    }
    expect(names.some((n) => n.startsWith('fedora-'))).toBe(true);
    expect(names.some((n) => n.startsWith('alpine-'))).toBe(true);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(CATALOG.map((e) => [e.name, e] as const))('%s has an importable https image URL and a checksum source of the right shape', (_name, entry) => {
    expect(entry.name).toMatch(NAME);
    expect(entry.name.length).toBeLessThanOrEqual(63);
    expect(new URL(entry.imageUrl).protocol).toBe('https:');
    expect(importFileName(entry.imageUrl)).toMatch(/\.(qcow2|raw)$/);
    expect(entry.notes.length).toBeGreaterThan(10);
    const c = entry.checksum;
    if (c.kind === 'pinned') {
      expect(c.value).toMatch(HEX[c.algorithm]);
      return;
    }
    expect(new URL(c.url).protocol).toBe('https:');
    const dir = entry.imageUrl.slice(0, entry.imageUrl.lastIndexOf('/') + 1);
    switch (c.kind) {
      case 'SHA256SUMS':
        expect([c.url, c.algorithm, c.perFile]).toEqual([`${dir}SHA256SUMS`, 'sha256', false]);
        break;
      case 'SHA512SUMS':
        expect([c.url, c.algorithm, c.perFile]).toEqual([`${dir}SHA512SUMS`, 'sha512', false]);
        break;
      case 'CHECKSUM':
        expect(c.algorithm).toBe('sha256');
        if (c.perFile) expect(c.url).toMatch(new RegExp(`^${escape(entry.imageUrl)}\\.(CHECKSUM|SHA256SUM)$`));
        else expect(c.url.startsWith(dir) && /CHECKSUM$/.test(c.url)).toBe(true);
        break;
      case 'per-file':
        expect(c.perFile).toBe(true);
        expect(c.url).toMatch(new RegExp(`^${escape(entry.imageUrl)}\\.(sha256|sha512|SHA256|SHA512)$`));
        expect(c.url.toLowerCase().endsWith(c.algorithm)).toBe(true);
        break;
    }
  });

  it.each(CATALOG.map((e) => [e.name, e] as const))('%s resolves its checksum from a file published in its format', async (_name, entry) => {
    const value = entry.checksum.algorithm === 'sha256' ? 'ab'.repeat(32) : 'cd'.repeat(64);
    const imageName = decodeURIComponent(new URL(entry.imageUrl).pathname.split('/').pop()!);
    // Per-file checksums next to a "latest" link name the versioned file; directory files list the link's name.
    const listed = entry.checksum.kind !== 'pinned' && entry.checksum.perFile ? imageName.replace(/latest/i, '20260101.0') : imageName;
    const fetched: string[] = [];
    const result = await resolveCatalogChecksum(entry, async (url) => {
      fetched.push(url);
      return publishedFile(entry, value, listed);
    });
    if (entry.checksum.kind === 'pinned') {
      expect(result).toEqual({ value: entry.checksum.value, algorithm: 'sha256' });
      expect(fetched).toEqual([]);
    } else {
      expect(result).toEqual({ value, algorithm: entry.checksum.algorithm });
      expect(fetched).toEqual([entry.checksum.url]);
    }
  });

  it('resolves aliases and explains unknown names', () => {
    for (const [alias, target] of Object.entries(CATALOG_ALIASES)) expect(catalogEntry(alias)?.name).toBe(target);
    expect(catalogEntry('debian-12')?.displayName).toBe('Debian 12 (bookworm)');
    expect(catalogEntry('plan9')).toBeUndefined();
    expect(catalogEntry('constructor')).toBeUndefined();
    expect(unknownDistributionMessage('plan9')).toMatch(/^unknown distribution "plan9": anvil's catalog has ubuntu-22.04, /);
  });

  it('reports an unreachable checksum file with its URL', async () => {
    const entry = catalogEntry('debian-13')!;
    await expect(resolveCatalogChecksum(entry, async () => { throw new Error('HTTP 404'); })).rejects.toThrow(
      'cannot read the checksum file https://cloud.debian.org/images/cloud/trixie/latest/SHA512SUMS: HTTP 404',
    );
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
