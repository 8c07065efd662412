// password_hash (the filter and its salts) and the plain-text password detector, on their own.
import { parse } from 'yaml';
import { host } from '../../../test/fixtures/render.js';
import { FilterError, MAX_PASSWORD_HASH_ROUNDS, passwordHashFilter } from './filters.js';
import { passwordSalt, passwordSalts } from './password-salts.js';
import { autoinstallPasswordProblems, cloudConfigPasswordProblems, PASSWORD_FIX, userDataPasswordProblems } from './plain-passwords.js';
import { CRYPT_ALPHABET, sha512Crypt } from './sha512-crypt.js';
import { checkTemplateSource } from './validate.js';

const HASH = sha512Crypt('ubuntu', 'exDY1mhS4KUYCE/2');

describe('passwordSalt', () => {
  it('is 16 characters of the crypt alphabet, the same for the same attempt and reference', () => {
    const salt = passwordSalt('attempt-1', 'metal/node-01\u0000creds\u0000password');
    expect(salt).toMatch(/^[./0-9A-Za-z]{16}$/);
    expect(passwordSalt('attempt-1', 'metal/node-01\u0000creds\u0000password')).toBe(salt);
  });

  it('differs between attempts and between references', () => {
    const salts = new Set([
      passwordSalt('attempt-1', 'metal/node-01\u0000creds\u0000password'),
      passwordSalt('attempt-2', 'metal/node-01\u0000creds\u0000password'),
      passwordSalt('attempt-1', 'metal/node-02\u0000creds\u0000password'),
      passwordSalt('attempt-1', 'metal/node-01\u0000creds\u0000root'),
    ]);
    expect(salts.size).toBe(4);
  });

  it('uses the whole alphabet (6 bits of each HMAC byte)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) for (const c of passwordSalt(`k${i}`, 'r')) seen.add(c);
    expect([...seen].sort().join('')).toBe([...CRYPT_ALPHABET].sort().join(''));
  });
});

describe('passwordSalts', () => {
  const h = host({
    secretRefs: [
      { name: 'creds', key: 'password', variable: 'adminPassword' },
      { name: 'all', variable: 'all' },
    ],
  });

  it('gives every secret value a salt from its Secret and key, never from the value', () => {
    const salts = new Map(passwordSalts(h, { adminPassword: 'pw-a', all: { root: 'pw-r', other: 'pw-o' } }, 'attempt-1'));
    expect(salts.get('pw-a')).toBe(passwordSalt('attempt-1', 'metal/node-01\u0000creds\u0000password'));
    expect(salts.get('pw-r')).toBe(passwordSalt('attempt-1', 'metal/node-01\u0000all\u0000root'));
    // the same reference holding another value keeps its salt
    expect(new Map(passwordSalts(h, { adminPassword: 'changed', all: {} }, 'attempt-1')).get('changed')).toBe(salts.get('pw-a'));
  });

  it('gives a value held by two references the salt of the first', () => {
    const salts = passwordSalts(h, { adminPassword: 'same', all: { x: 'same' } }, 'k');
    expect(salts).toEqual([['same', passwordSalt('k', 'metal/node-01\u0000creds\u0000password')]]);
  });
});

describe('passwordHashFilter', () => {
  const salts = new Map([['s3cret-Pw', 'abcdefghABCDEFGH']]);
  const saltOf = (v: string) => salts.get(v);
  const refused = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(FilterError);
      return (err as Error).message;
    }
    throw new Error('expected a FilterError');
  };

  it('hashes a secret value with its salt: SHA-512 crypt, 5000 rounds', () => {
    const out = passwordHashFilter(saltOf, 's3cret-Pw');
    expect(out).toBe(sha512Crypt('s3cret-Pw', 'abcdefghABCDEFGH'));
    expect(out).toMatch(/^\$6\$abcdefghABCDEFGH\$[./0-9A-Za-z]{86}$/);
  });

  it('takes rounds=N (nunjucks keyword argument) or N', () => {
    const expected = sha512Crypt('s3cret-Pw', 'abcdefghABCDEFGH', { rounds: 10000 });
    expect(passwordHashFilter(saltOf, 's3cret-Pw', { rounds: 10000, __keywords: true })).toBe(expected);
    expect(passwordHashFilter(saltOf, 's3cret-Pw', 10000)).toBe(expected);
    expect(refused(() => passwordHashFilter(saltOf, 's3cret-Pw', { rounds: 10, __keywords: true }))).toMatch(/rounds must be an integer from 1000 to/);
    expect(refused(() => passwordHashFilter(saltOf, 's3cret-Pw', MAX_PASSWORD_HASH_ROUNDS + 1))).toMatch(/rounds must be/);
    expect(refused(() => passwordHashFilter(saltOf, 's3cret-Pw', { salt: 'x', __keywords: true }))).toMatch(/unknown argument "salt"/);
  });

  it('returns a crypt(3) hash unchanged (a Secret may hold a hash already)', () => {
    expect(passwordHashFilter(() => undefined, HASH)).toBe(HASH);
  });

  it('refuses a password that does not come from a Secret, without quoting it', () => {
    const message = refused(() => passwordHashFilter(saltOf, 'written-in-the-template'));
    expect(message).toMatch(/^password_hash: the password does not come from a Secret: put it in a Secret referenced by the host's spec.secretRefs/);
    expect(message).not.toContain('written-in-the-template');
  });

  it('refuses an empty password and one with a line break (a Secret made from a file)', () => {
    expect(refused(() => passwordHashFilter(() => 'abcdefgh', ''))).toBe('password_hash: the password is empty');
    expect(refused(() => passwordHashFilter(() => 'abcdefgh', 'pw\n'))).toMatch(/contains a line break .*--from-literal/);
  });

  it('refuses what is not a string', () => {
    expect(refused(() => passwordHashFilter(saltOf, ['a']))).toBe('password_hash: expects a string, got a list');
  });

  it('is a filter templates may use (AutoinstallTemplate validation knows it)', () => {
    expect(checkTemplateSource('t/userData', '{{ creds.password | password_hash(rounds=10000) | yaml }}').problems).toEqual([]);
  });
});

describe('plain-text password detection', () => {
  const paths = (problems: { path: string }[]) => problems.map((p) => p.path);
  const cloudConfig = (yaml: string) => cloudConfigPasswordProblems(parse(yaml, { version: '1.1' }) as Record<string, unknown>, []);

  it('accepts crypt(3) hashes and generated passwords everywhere', () => {
    const problems = cloudConfig(`
password: ${HASH}
chpasswd:
  expire: false
  list: ["root:${HASH}", "ubuntu:RANDOM", "other:R"]
  users:
    - {name: a, password: "${HASH}"}
    - {name: b, password: "${HASH}", type: hash}
    - {name: c, type: RANDOM}
users:
  - default
  - {name: d, passwd: "${HASH}", hashed_passwd: "${HASH}"}
user: {name: e, passwd: "${HASH}"}
system_info: {default_user: {name: f, hashed_passwd: "${HASH}"}}
`);
    expect(problems).toEqual([]);
    expect(cloudConfig('password: RANDOM\nchpasswd: {list: "root:R\\nubuntu:RANDOM\\n"}')).toEqual([]);
  });

  it('finds every cloud-init form of a plain-text password, with its path', () => {
    const problems = cloudConfig(`
password: hunter2
chpasswd:
  list: ["root:$6$not-a-hash", "ubuntu:hunter2", "ok:${HASH}"]
  users:
    - {name: a, password: hunter2, type: text}
    - {name: b, password: hunter2}
    - {name: c, password: hunter2, type: hash}
    - {name: d, password: "${HASH}", type: text}
users:
  - {name: e, plain_text_passwd: hunter2}
  - {name: f, passwd: hunter2}
  - {name: g, hashed_passwd: hunter2}
user: {name: h, plain_text_passwd: hunter2}
system_info: {default_user: {name: i, passwd: hunter2}}
`);
    expect(paths(problems)).toEqual([
      'password',
      'chpasswd.list[0]',
      'chpasswd.list[1]',
      'chpasswd.users[0].password',
      'chpasswd.users[1].password',
      'chpasswd.users[2].password',
      // type: text says the value is a password in clear, whatever it looks like
      'chpasswd.users[3].password',
      'users[0].plain_text_passwd',
      'users[1].passwd',
      'users[2].hashed_passwd',
      'user.plain_text_passwd',
      'system_info.default_user.passwd',
    ]);
    for (const p of problems) {
      expect(p.message).toContain(PASSWORD_FIX);
      expect(p.message).not.toContain('hunter2');
    }
    expect(problems[3]!.message).toMatch(/^is a plain-text password \(type: text\), which anvil never publishes: remove type: text and put the password in a Secret/);
    expect(problems[7]!.message).toMatch(/^is a plain-text password, which anvil never publishes: use passwd instead; /);
  });

  it('reads a multi-line chpasswd.list line by line, and passwords given as numbers', () => {
    const problems = cloudConfig('chpasswd:\n  list: |\n    root:R\n    ubuntu:hunter2\npassword: 123456\n');
    expect(problems.map((p) => [p.path, p.message.slice(0, 45)])).toEqual([
      ['password', 'is a plain-text password, which anvil never p'],
      ['chpasswd.list', 'line 2 sets a plain-text password, which anvi'],
    ]);
  });

  it('tells a malformed hash from a plain-text password', () => {
    expect(cloudConfig('users: [{name: a, passwd: "$6$abc$tooshort"}]')[0]!.message).toMatch(/^looks like a \$6\$ \(SHA-512\) crypt\(3\) hash but is malformed: /);
  });

  it('looks into autoinstall: identity.password and the cloud-config of user-data', () => {
    const problems = autoinstallPasswordProblems(
      { identity: { password: 'hunter2' }, 'user-data': { chpasswd: { users: [{ name: 'u', password: 'x', type: 'text' }] } } },
      ['autoinstall'],
    );
    expect(paths(problems)).toEqual(['autoinstall.identity.password', 'autoinstall.user-data.chpasswd.users[0].password']);
    expect(problems[0]!.segments).toEqual(['autoinstall', 'identity', 'password']);
  });

  it('checks a whole user-data document: the installer session cloud-config and autoinstall', () => {
    const problems = userDataPasswordProblems({ password: 'live-session', autoinstall: { identity: { password: HASH }, 'user-data': { password: 'x' } } });
    expect(paths(problems)).toEqual(['password', 'autoinstall.user-data.password']);
  });
});
