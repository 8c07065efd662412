// The debian-preseed kind's validation and completion, without the render worker: malformed lines, unknown types and
// owners, booleans, plain-text passwords, missing answers (all reported at once, never quoting a value), anvil's
// hooks after the template's own commands, and the kernel command line d-i needs.
import { PASSWORD_HASH } from '../../../test/fixtures/render.js';
import { RenderError } from '../render/errors.js';
import { checkPreseed, parsePreseed } from './debian-preseed-file.js';
import { postEventCommand, PRESEED_START_EVENT } from './debian-preseed-hooks.js';
import { debianPreseed, preseedKernelArgs } from './debian-preseed.js';

export const MINIMAL_PRESEED = [
  'd-i debian-installer/locale string en_US.UTF-8',
  'd-i keyboard-configuration/xkb-keymap select us',
  'd-i mirror/country string manual',
  'd-i mirror/http/hostname string deb.debian.org',
  `d-i passwd/root-password-crypted password ${PASSWORD_HASH}`,
  'd-i passwd/make-user boolean false',
  'd-i partman-auto/method string regular',
  'd-i partman/choose_partition select finish',
  'd-i partman/confirm boolean true',
  'd-i partman/confirm_nooverwrite boolean true',
  'd-i finish-install/reboot_in_progress note',
].join('\n');

const WEBHOOK = 'http://10.9.8.7:8080/webhook/52-54-00-ab-cd-01/t0k3n';
const urls = { bootServerURL: 'http://10.9.8.7:8080', webhookURL: WEBHOOK, seedURL: 'unused', preseedURL: 'http://10.9.8.7:8080/preseed/52-54-00-ab-cd-01/t0k3n/preseed.cfg' };
const render = (preseed: string, kernelArgs?: string) =>
  debianPreseed.render({ outputs: { preseed, ...(kernelArgs !== undefined ? { kernelArgs } : {}) }, urls, host: { name: 'node-01', hostname: 'node-01' }, install: { revision: 1, attempt: 1 } });

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RenderError);
    return (err as RenderError).problems.map((p) => `${p.line ?? '-'}: ${p.message}`);
  }
  throw new Error('expected a RenderError');
}

describe('reading a preseed file', () => {
  it('joins continued lines, skips comments and blank lines, and keeps each answer with its lines', () => {
    const answers = parsePreseed('# comment\n\nd-i partman-auto/expert_recipe string \\\n  boot-root :: \\\n  500 10000 -1 ext4 .\nd-i netcfg/choose_interface select auto\n');
    expect(answers.map((a) => [a.question, a.type, a.line, a.endLine])).toEqual([
      ['partman-auto/expert_recipe', 'string', 3, 5],
      ['netcfg/choose_interface', 'select', 6, 6],
    ]);
    expect(answers[0]!.value).toBe('boot-root ::   500 10000 -1 ext4 .');
  });

  it('reports every malformed line at once, with its line', () => {
    expect(problemsOf(() => parsePreseed('d-i netcfg/get_hostname\nD-I netcfg/x string a\nd-i netcfg string a\nd-i netcfg/x strng a\n'))).toEqual([
      '1: a preseed line is "owner question type value" (e.g. "d-i netcfg/choose_interface select auto")',
      '2: "D-I" is not a question owner (d-i, or a package name)',
      '3: "netcfg" is not a question name (owner/name, e.g. netcfg/get_hostname)',
      '4: netcfg/x: "strng" is not a debconf type (string, boolean, select, multiselect, note, text, password, error, title)',
    ]);
  });
});

describe('checking the answers', () => {
  it('accepts the answers an unattended install needs', () => {
    expect(() => checkPreseed(parsePreseed(MINIMAL_PRESEED))).not.toThrow();
  });

  it('names each missing answer', () => {
    expect(problemsOf(() => checkPreseed(parsePreseed('d-i netcfg/choose_interface select auto\n')))).toEqual([
      '-: an unattended install needs the locale: set debian-installer/locale',
      '-: an unattended install needs the keyboard layout: set keyboard-configuration/xkb-keymap',
      '-: an unattended install needs the Debian mirror: set mirror/http/hostname or mirror/https/hostname or mirror/ftp/hostname or mirror/country (not manual)',
      "-: an unattended install needs root's password or no root login: set passwd/root-password-crypted or passwd/root-login false",
      "-: an unattended install needs the user's name and password (or passwd/make-user false): set passwd/username",
      "-: an unattended install needs the user's password (or passwd/make-user false): set passwd/user-password-crypted",
      '-: an unattended install needs the partitioning method: set partman-auto/method',
      '-: an unattended install needs the confirmation to write the partitions: set partman/confirm true',
      '-: an unattended install needs the confirmation to go on without a new file system: set partman/confirm_nooverwrite true',
      '-: an unattended install needs the end of partitioning: set partman/choose_partition finish',
      '-: an unattended install needs no question at the end of the install: set finish-install/reboot_in_progress',
    ]);
  });

  it('refuses plain-text passwords, malformed hashes, bad booleans and unknown d-i questions, never quoting a value', () => {
    const secret = 'hunter2-plain';
    const text = [
      MINIMAL_PRESEED,
      `d-i passwd/root-password password ${secret}`,
      `d-i passwd/user-password-again password ${secret}`,
      `d-i passwd/user-password-crypted password ${secret}`,
      `d-i partman-crypto/passphrase password ${secret}`,
      'd-i partman/confirm_write_new_label boolean yes',
      'd-i netcfgg/get_hostname string x',
      'd-i preseed/include string other.cfg',
      'postfix postfix/mailname string node-01',
    ].join('\n');
    const problems = problemsOf(() => checkPreseed(parsePreseed(text)));
    expect(problems).toEqual([
      '12: passwd/root-password: a plain-text password is never published; set passwd/root-password-crypted to {{ <secret variable> | password_hash }}',
      '13: passwd/user-password-again: a plain-text password is never published; set passwd/user-password-crypted to {{ <secret variable> | password_hash }}',
      expect.stringMatching(/^14: passwd\/user-password-crypted: must be a crypt\(3\) password hash/),
      '15: partman-crypto/passphrase: a password answer is published with the boot config; anvil takes passwords only as crypt(3) hashes in -crypted questions',
      '16: partman/confirm_write_new_label: a boolean is true or false',
      '17: netcfgg/get_hostname: d-i has no questions of "netcfgg" (a misspelt question is silently ignored by the installer)',
      "18: preseed/include: anvil serves one preseed file per host and sets where it is; put shared parts in the template's includes",
    ]);
    expect(problems.join('\n')).not.toContain(secret);
  });
});

describe('the file anvil serves', () => {
  it('keeps the template, replaces its own early and late commands by one line each with anvil\'s report after them', () => {
    const out = render(`${MINIMAL_PRESEED}\nd-i preseed/early_command string echo one; \\\n  echo two\nd-i preseed/late_command string in-target true;\n`);
    if (out.files.installer !== 'debian-preseed') throw new Error('wrong kind');
    const served = out.files.preseed;
    const lines = served.split('\n');
    expect(lines.slice(0, 11).join('\n')).toBe(MINIMAL_PRESEED);
    expect(lines.filter((l) => l.includes('preseed/early_command'))).toEqual([`d-i preseed/early_command string echo one;   echo two; ${postEventCommand(WEBHOOK, PRESEED_START_EVENT)}`]);
    expect(lines.filter((l) => l.startsWith('d-i preseed/late_command string in-target true; B=\'{"name":"debian-installer/install","event_type":"finish","result":"SUCCESS"'))).toHaveLength(1);
    expect(lines.some((l) => l.startsWith('  echo two'))).toBe(false);
    // what anvil serves passes its own checks
    expect(() => checkPreseed(parsePreseed(served))).not.toThrow();
  });

  it('posts with awk and nc (d-i\'s wget cannot), never failing the install, over http only', () => {
    const cmd = postEventCommand(WEBHOOK, PRESEED_START_EVENT);
    expect(cmd).toContain('POST /webhook/52-54-00-ab-cd-01/t0k3n HTTP/1.0');
    expect(cmd).toMatch(/\| nc -w 30 10\.9\.8\.7 8080 >\/dev\/null 2>&1 \|\| true$/);
    expect(cmd).not.toContain('\\');
    expect(() => postEventCommand('https://10.9.8.7/webhook/x/y', PRESEED_START_EVENT)).toThrow(/plain http/);
  });
});

describe('the kernel command line', () => {
  const options = { preseedURL: urls.preseedURL, bootServerURL: urls.bootServerURL, hostname: 'node-01.lab.example' };

  it("adds what d-i needs before the template's \"---\"", () => {
    expect(preseedKernelArgs('vga=788 --- console=ttyS0', options)).toBe(
      `vga=788 auto=true priority=critical url=${urls.preseedURL} interface=auto netcfg/get_hostname=node-01 netcfg/get_domain=lab.example log_host=10.9.8.7 log_port=5514 --- console=ttyS0`,
    );
  });

  it("keeps the template's own interface, log_host and log_port; refuses what anvil sets", () => {
    expect(preseedKernelArgs('interface=eth1 log_port=1514', { ...options, hostname: 'n1' })).toBe(
      `interface=eth1 log_port=1514 auto=true priority=critical url=${urls.preseedURL} netcfg/get_hostname=n1 netcfg/get_domain= log_host=10.9.8.7`,
    );
    expect(() => preseedKernelArgs('url=http://elsewhere/p.cfg', options)).toThrow('kernel arguments must not set url: anvil sets it for the host');
    expect(problemsOf(() => render(MINIMAL_PRESEED, 'priority=low'))).toEqual([
      '-: kernel arguments must not set priority: anvil sets it for the host (auto, auto-install/enable, priority, debconf/priority, url, preseed/url, netcfg/get_hostname, netcfg/get_domain)',
    ]);
  });
});
