// What anvil knows of d-i's questions, to refuse a preseed file that would stop an unattended install or be ignored:
// the question owners (the part of a question's name before its first "/") of d-i's udebs, the types debconf knows,
// and the answers an install without a person needs. A list of owners is enough to catch a misspelt question: the
// full question list depends on the release and on the udebs d-i loads from the mirror (a test checks the examples
// against the templates of the real netboot initrd).

/** debconf's question types (`owner question type value`). */
export const DEBCONF_TYPES = ['string', 'boolean', 'select', 'multiselect', 'note', 'text', 'password', 'error', 'title'] as const;

/** The owners of d-i's own questions (`d-i <owner>/...`): the udebs of Debian 12's installer. */
export const D_I_QUESTION_OWNERS: ReadonlySet<string> = new Set([
  'anna', 'apt-setup', 'apt-mirror-setup', 'auto-install', 'babelbox', 'base-installer', 'bootstrap-base', 'cdrom-detect', 'choose-mirror', 'clock-setup',
  'console-setup', 'debconf', 'debian-installer', 'di-utils-reboot', 'di-utils-shell', 'disk-detect', 'ethdetect', 'finish-install', 'grub-installer', 'hw-detect',
  'iso-scan', 'kbd-chooser', 'keyboard-configuration', 'live-installer', 'localechooser', 'lowmem', 'mirror', 'netcfg', 'network-console',
  'nobootloader', 'oldsys-preseed', 'partman', 'partman-auto', 'partman-auto-crypto', 'partman-auto-lvm', 'partman-auto-raid',
  'partman-basicfilesystems', 'partman-basicmethods', 'partman-btrfs', 'partman-crypto', 'partman-efi', 'partman-ext3', 'partman-iscsi',
  'partman-lvm', 'partman-md', 'partman-partitioning', 'partman-target', 'partman-xfs', 'passwd', 'pkgsel', 'popularity-contest', 'preseed',
  'rescue', 'retriever', 'save-logs', 'tasksel', 'time', 'user-setup',
]);

/** One answer the file must give, with alternatives: any of `anyOf` (with the value, when one is named). */
export interface RequiredAnswer {
  what: string;
  anyOf: readonly { question: string; value?: string; notValue?: string }[];
  /** Only when this holds (e.g. a user account is made). */
  when?: (answers: ReadonlyMap<string, string>) => boolean;
}

/**
 * The answers an unattended install needs (d-i asks the others at a priority `priority=critical` skips, or has a
 * default). The hostname and domain are not here: anvil passes them on the kernel command line, where netcfg reads
 * them before the preseed file is fetched.
 */
export const REQUIRED_ANSWERS: readonly RequiredAnswer[] = [
  { what: 'the locale', anyOf: [{ question: 'debian-installer/locale' }] },
  { what: 'the keyboard layout', anyOf: [{ question: 'keyboard-configuration/xkb-keymap' }] },
  {
    what: 'the Debian mirror',
    anyOf: [{ question: 'mirror/http/hostname' }, { question: 'mirror/https/hostname' }, { question: 'mirror/ftp/hostname' }, { question: 'mirror/country', notValue: 'manual' }],
  },
  { what: "root's password or no root login", anyOf: [{ question: 'passwd/root-password-crypted' }, { question: 'passwd/root-login', value: 'false' }] },
  {
    what: "the user's name and password (or passwd/make-user false)",
    anyOf: [{ question: 'passwd/username' }],
    when: (answers) => answers.get('passwd/make-user') !== 'false',
  },
  {
    what: "the user's password (or passwd/make-user false)",
    anyOf: [{ question: 'passwd/user-password-crypted' }],
    when: (answers) => answers.get('passwd/make-user') !== 'false',
  },
  { what: 'the partitioning method', anyOf: [{ question: 'partman-auto/method' }] },
  { what: 'the confirmation to write the partitions', anyOf: [{ question: 'partman/confirm', value: 'true' }] },
  { what: 'the confirmation to go on without a new file system', anyOf: [{ question: 'partman/confirm_nooverwrite', value: 'true' }] },
  { what: 'the end of partitioning', anyOf: [{ question: 'partman/choose_partition', value: 'finish' }] },
  { what: 'no question at the end of the install', anyOf: [{ question: 'finish-install/reboot_in_progress' }] },
];

/** Questions that carry a password in clear: refused, with the question to use instead. */
export const PLAIN_PASSWORD_QUESTIONS: Readonly<Record<string, string>> = {
  'passwd/root-password': 'passwd/root-password-crypted',
  'passwd/root-password-again': 'passwd/root-password-crypted',
  'passwd/user-password': 'passwd/user-password-crypted',
  'passwd/user-password-again': 'passwd/user-password-crypted',
  'grub-installer/password': 'grub-installer/password-crypted',
  'grub-installer/password-again': 'grub-installer/password-crypted',
};

/** Questions anvil sets itself, on the kernel command line or in the file: a template's own would conflict. */
export const ANVIL_QUESTIONS: ReadonlySet<string> = new Set(['preseed/url', 'preseed/file', 'preseed/include', 'preseed/run', 'preseed/include_command']);
