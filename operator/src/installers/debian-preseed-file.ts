// Reading and checking a rendered preseed file (debconf-set-selections format, as d-i's preseed reads it): one answer
// per line, `owner question type value`, a line ending in "\" continued on the next, "#" comments and blank lines
// ignored. Problems name the rendered line and the question, never the value (it may be a secret).
import { cryptHashProblem } from '../render/crypt-hash.js';
import { RenderError, type RenderProblem } from '../render/errors.js';
import { ANVIL_QUESTIONS, D_I_QUESTION_OWNERS, DEBCONF_TYPES, PLAIN_PASSWORD_QUESTIONS, REQUIRED_ANSWERS } from './debian-preseed-questions.js';

export interface PreseedAnswer {
  owner: string;
  question: string;
  type: string;
  value: string;
  /** 1-based lines of the rendered file where the answer starts and ends (continued lines). */
  line: number;
  endLine: number;
}

const OWNER = /^(?:d-i|[a-z0-9][a-z0-9+.-]*)$/;
const QUESTION = /^[A-Za-z0-9][A-Za-z0-9+._-]*(?:\/[A-Za-z0-9+._-]+)+$/;
const TYPES: ReadonlySet<string> = new Set(DEBCONF_TYPES);
/** GRUB's own password hash (grub-mkpasswd-pbkdf2), which grub-installer/password-crypted also takes. */
const GRUB_PBKDF2 = /^grub\.pbkdf2\.sha512\.\d+\.[0-9A-F]+\.[0-9A-F]+$/;

/** The answers of a preseed file, in order; throws a RenderError listing every malformed line. */
export function parsePreseed(text: string): PreseedAnswer[] {
  const problems: RenderProblem[] = [];
  const answers: PreseedAnswer[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let logical = lines[i]!.replace(/\r$/, '');
    while (logical.endsWith('\\') && i + 1 < lines.length) logical = logical.slice(0, -1) + lines[++i]!.replace(/\r$/, '');
    const trimmed = logical.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const m = /^(\S+)\s+(\S+)\s+(\S+)(?:\s(.*))?$/.exec(trimmed);
    const problem = (message: string): void => void problems.push({ field: 'preseed', line: start, message });
    if (!m) {
      problem('a preseed line is "owner question type value" (e.g. "d-i netcfg/choose_interface select auto")');
      continue;
    }
    const [owner, question, type, rawValue] = [m[1]!, m[2]!, m[3]!.replace(/:$/, ''), m[4]];
    if (!OWNER.test(owner)) problem(`"${owner.slice(0, 64)}" is not a question owner (d-i, or a package name)`);
    else if (!QUESTION.test(question)) problem(`"${question.slice(0, 128)}" is not a question name (owner/name, e.g. netcfg/get_hostname)`);
    else if (!TYPES.has(type)) problem(`${question}: "${type.slice(0, 32)}" is not a debconf type (${DEBCONF_TYPES.join(', ')})`);
    else answers.push({ owner, question, type, value: (rawValue ?? '').trim(), line: start, endLine: i + 1 });
  }
  if (problems.length) throw new RenderError('validation', problems);
  return answers;
}

/** Checks the answers d-i will get: known questions, types, no plain-text password, every answer an unattended install needs. */
export function checkPreseed(answers: readonly PreseedAnswer[]): void {
  const problems: RenderProblem[] = [];
  const problem = (a: PreseedAnswer | undefined, message: string): void =>
    void problems.push({ field: 'preseed', ...(a ? { line: a.line, path: a.question } : {}), message });
  const last = new Map<string, string>();
  for (const a of answers) {
    last.set(a.question, a.value);
    const owner = a.question.split('/')[0]!;
    if (a.owner === 'd-i' && !D_I_QUESTION_OWNERS.has(owner)) {
      problem(a, `${a.question}: d-i has no questions of "${owner}" (a misspelt question is silently ignored by the installer)`);
    }
    if (ANVIL_QUESTIONS.has(a.question)) problem(a, `${a.question}: anvil serves one preseed file per host and sets where it is; put shared parts in the template's includes`);
    if (a.type === 'boolean' && a.value !== 'true' && a.value !== 'false') problem(a, `${a.question}: a boolean is true or false`);
    const instead = PLAIN_PASSWORD_QUESTIONS[a.question];
    if (instead !== undefined) {
      if (a.value !== '') problem(a, `${a.question}: a plain-text password is never published; set ${instead} to {{ <secret variable> | password_hash }}`);
    } else if (a.question.endsWith('-crypted') && a.value !== '') {
      const hashProblem = a.question.startsWith('grub-installer/') && GRUB_PBKDF2.test(a.value) ? undefined : cryptHashProblem(a.value);
      if (hashProblem) problem(a, `${a.question}: ${hashProblem}`);
    } else if (a.type === 'password' && a.value !== '') {
      problem(a, `${a.question}: a password answer is published with the boot config; anvil takes passwords only as crypt(3) hashes in -crypted questions`);
    }
  }
  for (const required of REQUIRED_ANSWERS) {
    if (required.when && !required.when(last)) continue;
    const given = required.anyOf.some(({ question, value, notValue }) => {
      const v = last.get(question);
      return v !== undefined && (value === undefined || v === value) && (notValue === undefined || v !== notValue);
    });
    if (!given) {
      const options = required.anyOf.map(({ question, value, notValue }) => (value ? `${question} ${value}` : notValue ? `${question} (not ${notValue})` : question));
      problem(undefined, `an unattended install needs ${required.what}: set ${options.join(' or ')}`);
    }
  }
  if (problems.length) throw new RenderError('validation', problems);
}
