// Finds plain-text passwords in what anvil is about to publish. Everything a host receives is served over the boot
// network to whoever asks with the install token, so a password in clear there is readable by anyone on that
// network during the install: anvil refuses the config instead, naming the field and the fix.
//
// The forms looked at are every one cloud-init or subiquity turns into a login password:
// - subiquity: autoinstall.identity.password (always a crypt(3) hash for subiquity; anything else is refused)
// - cloud-init, in autoinstall.user-data (the installed system) and at the top level of the user-data and in a
//   #cloud-config vendor-data (the installer's live session):
//   - password (the default user's; plain unless it is a hash, as cloud-init decides)
//   - chpasswd.list, a list or a multi-line string of user:password (plain unless the password is a hash, R or RANDOM)
//   - chpasswd.users[].password with type: text, or with no type (or type: hash) when it is not a hash
//   - users[].plain_text_passwd, and users[].passwd / users[].hashed_passwd when they are not hashes; the same keys in
//     user (the default user's settings) and system_info.default_user
// Messages never quote a value.
import { isPlainObject } from './chain.js';
import { cryptHashProblem, isCryptHash } from './crypt-hash.js';

export interface PasswordProblem {
  /** Where the password is, as keys and indexes from the document's root (to find its line). */
  segments: (string | number)[];
  /** The same as text: `autoinstall.user-data.chpasswd.users[0].password`. */
  path: string;
  message: string;
}

/** The fix every message ends with. */
export const PASSWORD_FIX =
  "put the password in a Secret referenced by the host's spec.secretRefs and write {{ <variable> | password_hash | yaml }}: anvil publishes only its SHA-512 crypt hash";

const NEVER_PUBLISHED = 'which anvil never publishes';
const LIST_FIX = `write the entry as <user>:{{ <variable> | password_hash }} (or use chpasswd.users); ${PASSWORD_FIX}`;

/** Passwords cloud-init generates itself (chpasswd.list entries and the password key). */
const RANDOM_PASSWORDS = new Set(['R', 'RANDOM']);

/** The problems of a rendered user-data document: its cloud-config, and its autoinstall section if it has one. */
export function userDataPasswordProblems(document: Record<string, unknown>): PasswordProblem[] {
  const problems = cloudConfigPasswordProblems(document, []);
  if (isPlainObject(document.autoinstall)) problems.push(...autoinstallPasswordProblems(document.autoinstall, ['autoinstall']));
  return problems;
}

/** identity.password, and the cloud-config of user-data, of an autoinstall configuration found at `at`. */
export function autoinstallPasswordProblems(autoinstall: Record<string, unknown>, at: (string | number)[]): PasswordProblem[] {
  const problems: PasswordProblem[] = [];
  const identity = autoinstall.identity;
  if (isPlainObject(identity) && Object.hasOwn(identity, 'password')) {
    const why = notAHash(identity.password);
    if (why) problems.push(problem([...at, 'identity', 'password'], why));
  }
  if (isPlainObject(autoinstall['user-data'])) problems.push(...cloudConfigPasswordProblems(autoinstall['user-data'], [...at, 'user-data']));
  return problems;
}

/** The password forms of a cloud-config document found at `at` (the autoinstall key is not looked into). */
export function cloudConfigPasswordProblems(config: Record<string, unknown>, at: (string | number)[]): PasswordProblem[] {
  const problems: PasswordProblem[] = [];
  if (Object.hasOwn(config, 'password') && !isRandom(config.password)) {
    const why = notAHash(config.password);
    if (why) problems.push(problem([...at, 'password'], why));
  }

  const chpasswd = config.chpasswd;
  if (isPlainObject(chpasswd)) {
    const list = chpasswd.list;
    if (typeof list === 'string') {
      // one YAML node: the problem points at it and names the line
      list.split(/\r?\n/).forEach((line, i) => {
        if (plainListEntry(line)) {
          problems.push(problem([...at, 'chpasswd', 'list'], `line ${i + 1} sets a plain-text password, ${NEVER_PUBLISHED}: ${LIST_FIX}`));
        }
      });
    } else if (Array.isArray(list)) {
      list.forEach((entry: unknown, i) => {
        if (plainListEntry(entry)) problems.push(problem([...at, 'chpasswd', 'list', i], `sets a plain-text password, ${NEVER_PUBLISHED}: ${LIST_FIX}`));
      });
    }
    if (Array.isArray(chpasswd.users)) {
      chpasswd.users.forEach((user: unknown, i) => {
        if (!isPlainObject(user) || !Object.hasOwn(user, 'password')) return;
        const segments = [...at, 'chpasswd', 'users', i, 'password'];
        const type = user.type;
        if (type === 'RANDOM') return;
        if (type === 'text') {
          problems.push(problem(segments, `is a plain-text password (type: text), ${NEVER_PUBLISHED}: remove type: text and ${PASSWORD_FIX}`));
          return;
        }
        const why = notAHash(user.password);
        if (why) problems.push(problem(segments, why));
      });
    }
  }

  if (Array.isArray(config.users)) config.users.forEach((user: unknown, i) => problems.push(...userPasswordProblems(user, [...at, 'users', i])));
  problems.push(...userPasswordProblems(config.user, [...at, 'user']));
  const systemInfo = config.system_info;
  if (isPlainObject(systemInfo)) problems.push(...userPasswordProblems(systemInfo.default_user, [...at, 'system_info', 'default_user']));
  return problems;
}

/** plain_text_passwd, passwd and hashed_passwd of one cloud-init user. */
function userPasswordProblems(user: unknown, at: (string | number)[]): PasswordProblem[] {
  if (!isPlainObject(user)) return [];
  const problems: PasswordProblem[] = [];
  if (Object.hasOwn(user, 'plain_text_passwd')) {
    problems.push(
      problem([...at, 'plain_text_passwd'], `is a plain-text password, ${NEVER_PUBLISHED}: use passwd instead; ${PASSWORD_FIX}`),
    );
  }
  for (const key of ['passwd', 'hashed_passwd']) {
    if (!Object.hasOwn(user, key)) continue;
    const why = notAHash(user[key]);
    if (why) problems.push(problem([...at, key], why));
  }
  return problems;
}

/** Why a password value is not a crypt(3) hash, or undefined when it is one (or is not a scalar at all). */
function notAHash(value: unknown): string | undefined {
  if (typeof value === 'number' || typeof value === 'boolean') return `is a plain-text password, ${NEVER_PUBLISHED}: ${PASSWORD_FIX}`;
  if (typeof value !== 'string') return undefined; // null or a collection: the schema reports it where one applies
  const why = cryptHashProblem(value);
  if (why === undefined) return undefined;
  if (why.startsWith('looks like')) return `${why}: ${PASSWORD_FIX}`;
  return `is a plain-text password, ${NEVER_PUBLISHED}: ${PASSWORD_FIX}`;
}

/** A chpasswd.list entry `user:password` whose password cloud-init would take as plain text. */
function plainListEntry(entry: unknown): boolean {
  if (typeof entry !== 'string' || !entry.includes(':')) return false;
  const password = entry.slice(entry.indexOf(':') + 1);
  return !isRandom(password) && !isCryptHash(password);
}

function isRandom(value: unknown): boolean {
  return typeof value === 'string' && RANDOM_PASSWORDS.has(value);
}

function problem(segments: (string | number)[], message: string): PasswordProblem {
  return { segments, path: formatPath(segments), message };
}

function formatPath(segments: (string | number)[]): string {
  let path = '';
  for (const s of segments) path = typeof s === 'number' ? `${path}[${s}]` : path ? `${path}.${s}` : s;
  return path;
}
