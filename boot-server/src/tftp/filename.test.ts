import { sanitizeFilename } from './filename.js';

const ok = (raw: string | Buffer): string => {
  const r = sanitizeFilename(typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.path;
};
const refused = (raw: string | Buffer): boolean => !sanitizeFilename(typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw).ok;

describe('TFTP filename sanitizing', () => {
  it('keeps plain names and normalizes separators', () => {
    expect(ok('undionly.kpxe')).toBe('undionly.kpxe');
    expect(ok('/ipxe.efi')).toBe('ipxe.efi');
    expect(ok('efi\\x64\\snponly.efi')).toBe('efi/x64/snponly.efi');
    expect(ok('\\boot.ipxe')).toBe('boot.ipxe');
    expect(ok('a/./b//c')).toBe('a/b/c');
    expect(ok('a%20b')).toBe('a%20b');
    expect(ok('dir/..file')).toBe('dir/..file');
  });

  it('strips trailing NUL and 0xFF padding', () => {
    expect(ok(Buffer.from([0x61, 0x2e, 0x62, 0xff, 0xff, 0x00]))).toBe('a.b');
  });

  it.each([
    '../../etc/passwd',
    '..',
    'a/../../b',
    'a/../b',
    '\\..\\..\\etc\\passwd',
    '//etc/passwd',
    '\\\\server\\share',
    'C:\\Windows\\win.ini',
    '%2e%2e/%2e%2e/etc/passwd',
    '%2E%2E%2Fetc%2Fpasswd',
    '..%2fetc',
    '%252e%252e/etc/passwd',
    'a%5c..%5c..%5cb',
    'a%00b',
    'a\u0001b',
    '',
    '/',
    '.',
  ])('refuses %j', (name) => {
    expect(refused(name)).toBe(true);
  });

  it('refuses invalid UTF-8 and names that are only padding', () => {
    expect(refused(Buffer.from([0x61, 0xc3, 0x28]))).toBe(true);
    expect(refused(Buffer.from([0xff, 0xff]))).toBe(true);
    expect(refused(Buffer.alloc(2000, 0x61))).toBe(true);
  });
});
