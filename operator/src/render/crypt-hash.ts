// Recognising crypt(3) password hashes: what cloud-init, subiquity and chpasswd -e accept as an already hashed
// password. Strict on purpose: a value that is not exactly one of these formats is treated as plain text.
//
// Loaded by the render worker process too (the password_hash filter): erasable TypeScript, no imports.

// crypt(3) hash formats, as produced by mkpasswd/openssl passwd/crypt(): $id$[params$]salt$hash.
const CRYPT_FORMATS: readonly { id: string; name: string; pattern: RegExp }[] = [
  { id: '$6$', name: 'SHA-512', pattern: /^\$6\$(?:rounds=\d+\$)?[^$:\n]{0,16}\$[./0-9A-Za-z]{86}$/ },
  { id: '$5$', name: 'SHA-256', pattern: /^\$5\$(?:rounds=\d+\$)?[^$:\n]{0,16}\$[./0-9A-Za-z]{43}$/ },
  { id: '$y$', name: 'yescrypt', pattern: /^\$y\$[./0-9A-Za-z]+\$[./0-9A-Za-z]*\$[./0-9A-Za-z]{43}$/ },
  { id: '$gy$', name: 'gost-yescrypt', pattern: /^\$gy\$[./0-9A-Za-z]+\$[./0-9A-Za-z]*\$[./0-9A-Za-z]{43}$/ },
  { id: '$7$', name: 'scrypt', pattern: /^\$7\$[./0-9A-Za-z]{11,}\$[./0-9A-Za-z]{43}$/ },
  { id: '$2', name: 'bcrypt', pattern: /^\$2[abxy]?\$\d{2}\$[./0-9A-Za-z]{53}$/ },
  { id: '$1$', name: 'MD5', pattern: /^\$1\$[^$:\n]{0,8}\$[./0-9A-Za-z]{22}$/ },
];

/** Whether `value` is a crypt(3) password hash ($6$, $y$, $5$, $2b$, $1$...). */
export function isCryptHash(value: string): boolean {
  return cryptHashProblem(value) === undefined;
}

/** Why `value` is not a crypt(3) password hash, or undefined when it is one. Never quotes the value. */
export function cryptHashProblem(value: string): string | undefined {
  const format = CRYPT_FORMATS.find((f) => value.startsWith(f.id));
  if (format) return format.pattern.test(value) ? undefined : `looks like a ${format.id} (${format.name}) crypt(3) hash but is malformed`;
  return 'must be a crypt(3) password hash (for example from "mkpasswd -m sha-512" or "openssl passwd -6", starting with $6$, $y$, $5$ or $2b$), not a plain-text password';
}
