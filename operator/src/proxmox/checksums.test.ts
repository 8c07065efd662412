import { describe, it, expect } from '@jest/globals';
import { algorithmForHex, ChecksumError, findChecksum, importFileName, parseChecksumFile } from './checksums.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(128);

describe('parseChecksumFile', () => {
  it('reads GNU coreutils lines, with and without the binary marker', () => {
    const text = `${A} *ubuntu-24.04-server-cloudimg-amd64.img\n${B}  ubuntu-24.04-server-cloudimg-arm64.img\n`;
    expect(parseChecksumFile(text)).toEqual([
      { fileName: 'ubuntu-24.04-server-cloudimg-amd64.img', algorithm: 'sha256', value: A, style: 'gnu' },
      { fileName: 'ubuntu-24.04-server-cloudimg-arm64.img', algorithm: 'sha256', value: B, style: 'gnu' },
    ]);
  });

  it('reads BSD lines and skips PGP armour, Hash: headers and size comments (Fedora/CentOS CHECKSUM)', () => {
    const text = [
      '-----BEGIN PGP SIGNED MESSAGE-----',
      'Hash: SHA256',
      '',
      '# Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2: 559939584 bytes',
      `SHA256 (Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2) = ${A.toUpperCase()}`,
      `SHA256 (Fedora-Cloud-Base-AmazonEC2-44-1.7.x86_64.raw.xz) = ${B}`,
      '-----BEGIN PGP SIGNATURE-----',
      `iQIzBAEBCAAdFiEE${A}`,
      '-----END PGP SIGNATURE-----',
    ].join('\n');
    const entries = parseChecksumFile(text);
    expect(entries.map((e) => [e.fileName, e.value, e.style])).toEqual([
      ['Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2', A, 'bsd'],
      ['Fedora-Cloud-Base-AmazonEC2-44-1.7.x86_64.raw.xz', B, 'bsd'],
    ]);
  });

  it('reads a bare hash and knows sha512 by its length', () => {
    expect(parseChecksumFile(`${C}\n`)).toEqual([{ algorithm: 'sha512', value: C, style: 'bare' }]);
    expect(algorithmForHex(C)).toBe('sha512');
    expect(algorithmForHex('abc')).toBeUndefined();
  });

  it('drops BSD lines whose length does not fit the algorithm', () => {
    expect(parseChecksumFile(`SHA512 (x.qcow2) = ${A}`)).toEqual([]);
  });
});

describe('findChecksum', () => {
  const sums = `${A}  debian-13-genericcloud-amd64.qcow2\n${B}  debian-13-genericcloud-arm64.qcow2\n`;

  it('finds the entry for the file', () => {
    expect(findChecksum(sums, 'debian-13-genericcloud-arm64.qcow2', { algorithm: 'sha256' })).toBe(B);
  });

  it('says clearly when the file is not listed or the algorithm is absent', () => {
    expect(() => findChecksum(sums, 'other.qcow2', { algorithm: 'sha256', source: 'https://x/SHA256SUMS' })).toThrow(
      'other.qcow2 is not listed in https://x/SHA256SUMS (it lists 2 files)',
    );
    expect(() => findChecksum(sums, 'debian-13-genericcloud-arm64.qcow2', { algorithm: 'sha512' })).toThrow(ChecksumError);
  });

  it('takes a per-file checksum naming the versioned file for a "latest" link', () => {
    const text = `# CentOS-Stream-GenericCloud-10-20260101.0.x86_64.qcow2: 900 bytes\nSHA256 (CentOS-Stream-GenericCloud-10-20260101.0.x86_64.qcow2) = ${A}\n`;
    expect(findChecksum(text, 'CentOS-Stream-GenericCloud-10-latest.x86_64.qcow2', { algorithm: 'sha256', perFile: true })).toBe(A);
    expect(() => findChecksum(text, 'CentOS-Stream-GenericCloud-10-latest.x86_64.qcow2', { algorithm: 'sha256' })).toThrow(/is not listed/);
  });

  it('refuses a file listed twice with different values', () => {
    expect(() => findChecksum(`${A}  x.qcow2\n${B}  x.qcow2\n`, 'x.qcow2', { algorithm: 'sha256' })).toThrow(/different sha256 checksums/);
  });
});

describe('importFileName', () => {
  it('renames .img to .qcow2 and keeps importable extensions', () => {
    expect(importFileName('https://cloud-images.ubuntu.com/releases/noble/release/ubuntu-24.04-server-cloudimg-amd64.img')).toBe(
      'ubuntu-24.04-server-cloudimg-amd64.qcow2',
    );
    expect(importFileName('https://example.com/a/disk.RAW?sig=1#x')).toBe('disk.raw');
    expect(importFileName('https://example.com/a/debian-12-genericcloud-amd64.qcow2')).toBe('debian-12-genericcloud-amd64.qcow2');
  });

  it('puts a tag before the extension and replaces characters PVE does not take', () => {
    expect(importFileName('https://example.com/my%20image.img', 'v2:abcdef12')).toBe('my_image-v2_abcdef12.qcow2');
  });

  it('refuses compressed images with a clear message', () => {
    for (const ext of ['xz', 'gz', 'bz2', 'zst']) {
      expect(() => importFileName(`https://example.com/Arch-Linux-x86_64-cloudimg.qcow2.${ext}`)).toThrow(
        new RegExp(`is compressed \\(\\.${ext}\\); Proxmox cannot import compressed images`),
      );
    }
  });

  it('refuses names that are not disk images', () => {
    expect(() => importFileName('https://example.com/ubuntu.iso')).toThrow(/not a disk image PVE can import/);
    expect(() => importFileName('https://example.com/')).toThrow(/does not end in a file name/);
    expect(() => importFileName('not a url')).toThrow(/not a valid URL/);
  });
});
