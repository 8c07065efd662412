// SHA-512 crypt against the reference: the test vectors of Drepper's specification (as produced by glibc and by
// `openssl passwd -6`), and, when the tools are installed, openssl and mkpasswd themselves over a matrix of
// password and salt lengths around SHA-512's 64-byte block and digest sizes.
import { spawnSync } from 'node:child_process';
import { isCryptHash } from './crypt-hash.js';
import { sha512Crypt } from './sha512-crypt.js';

const available = (tool: string, args: string[]): boolean => spawnSync(tool, args, { encoding: 'utf8' }).status === 0;
const OPENSSL = available('openssl', ['version']);
const MKPASSWD = available('mkpasswd', ['-m', 'sha-512', '-S', 'abcdefgh', 'x']);

// [salt as given to `openssl passwd -6 -salt`, password, hash]; verified with openssl 3.0, glibc crypt(3) and mkpasswd
const VECTORS: [string, string, string][] = [
  ['saltstring', 'Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  [
    'rounds=10000$saltstringsaltstring',
    'Hello world!',
    '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
  ],
  [
    'rounds=5000$toolongsaltstring',
    'This is just a test',
    '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
  ],
  [
    'rounds=1400$anotherlongsaltstring',
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  ],
  [
    'rounds=77777$short',
    'we have a short salt string but not a short password',
    '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
  ],
  [
    'rounds=123456$asaltof16chars..',
    'a short string',
    '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1',
  ],
  [
    'rounds=10$roundstoolow',
    'the minimum number is still observed',
    '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.',
  ],
  // UTF-8, a password longer than two SHA-512 blocks, the empty password (glibc crypt(3))
  ['Zz./09AZaz012345', 'pässwörd ✓', '$6$Zz./09AZaz012345$VmlvMFwhViJvItS8KwUArHHEQbFMRIYnyds9qj6ZlcofEuQSakmcrUeU3z9yrQCK9zGqipPcAygQWODyEcuN01'],
  ['abcdefgh', 'x'.repeat(200), '$6$abcdefgh$tpP3/LI4wMLKhgKp8bTwVQweEEM46u1QVpxJ4s7//kd/n92pnKvxNc51RM.csWa9OlZn10Z4pRopwomQmhBXx1'],
  ['abc', '', '$6$abc$mJP3a6FyA8uCnzRtlnNypPwjnvpi5TP9qOrInzrfDmwxUQG38PkpCPdqfTb8JQfAngapMxeim4AZ..hSdRRzD.'],
];

describe('sha512Crypt', () => {
  it.each(VECTORS)('salt %j, password %j', (salt, password, expected) => {
    expect(sha512Crypt(password, salt)).toBe(expected);
    expect(isCryptHash(expected)).toBe(true);
  });

  it('takes rounds as an option, clamped like glibc, and written into the hash when given', () => {
    expect(sha512Crypt('Hello world!', 'saltstringsaltstring', { rounds: 10000 })).toBe(VECTORS[1]![2]);
    expect(sha512Crypt('the minimum number is still observed', 'roundstoolow', { rounds: 10 })).toBe(VECTORS[6]![2]);
    // rounds=5000 given explicitly is written out, as glibc does; the default is implicit
    expect(sha512Crypt('Hello world!', 'saltstring', { rounds: 5000 })).toBe(VECTORS[0]![2].replace('$6$', '$6$rounds=5000$'));
    expect(() => sha512Crypt('x', 'salt', { rounds: 1.5 })).toThrow(RangeError);
  });

  it('accepts a salt with the $6$ prefix, and ends the salt at a "$"', () => {
    expect(sha512Crypt('Hello world!', '$6$saltstring')).toBe(VECTORS[0]![2]);
    expect(sha512Crypt('Hello world!', 'saltstring$whatever')).toBe(VECTORS[0]![2]);
  });

  // password lengths around the 64-byte block and digest: the P sequence and the bits of |P| take every path
  const passwords = ['a', 'hunter2', 'p'.repeat(63), 'q'.repeat(64), 'r'.repeat(65), 's'.repeat(127), 't'.repeat(128), 'u'.repeat(129), 'ünïcödé 🔑'];
  const salts = ['s', 'abcdefgh', 'Zz./09AZaz012345'];

  (OPENSSL ? it : it.skip)(`equals openssl passwd -6${OPENSSL ? '' : ' (skipped: openssl not found)'}`, () => {
    for (const password of passwords) {
      for (const salt of salts) {
        const out = spawnSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: password, encoding: 'utf8' });
        expect(out.status).toBe(0);
        expect([password, salt, sha512Crypt(password, salt)]).toEqual([password, salt, out.stdout.trim()]);
      }
    }
    const rounds = spawnSync('openssl', ['passwd', '-6', '-salt', 'rounds=1234$abcdefgh', 'hunter2'], { encoding: 'utf8' });
    expect(sha512Crypt('hunter2', 'abcdefgh', { rounds: 1234 })).toBe(rounds.stdout.trim());
  });

  (MKPASSWD ? it : it.skip)(`equals mkpasswd -m sha-512${MKPASSWD ? '' : ' (skipped: mkpasswd not found)'}`, () => {
    // mkpasswd wants salts of 8 to 16 characters
    for (const password of passwords) {
      for (const salt of salts.filter((s) => s.length >= 8)) {
        const out = spawnSync('mkpasswd', ['-m', 'sha-512', '-S', salt, '--stdin'], { input: password, encoding: 'utf8' });
        expect(out.status).toBe(0);
        expect([password, salt, sha512Crypt(password, salt)]).toEqual([password, salt, out.stdout.trim()]);
      }
    }
    const rounds = spawnSync('mkpasswd', ['-m', 'sha-512', '-R', '20000', '-S', 'abcdefgh', 'hunter2'], { encoding: 'utf8' });
    expect(sha512Crypt('hunter2', 'abcdefgh', { rounds: 20000 })).toBe(rounds.stdout.trim());
  });
});
