// SHA-512 crypt ($6$): the password hash of glibc's crypt(3), `mkpasswd -m sha-512` and `openssl passwd -6`, written
// from Ulrich Drepper's specification ("Unix crypt using SHA-256 and SHA-512"). It is what cloud-init and subiquity
// accept in every password field, and what /etc/shadow holds on Ubuntu and Debian besides yescrypt.
//
// Loaded by the render worker process (the password_hash filter): erasable TypeScript, node: built-ins only.
import { hash } from 'node:crypto';

/** The crypt(3) alphabet of salts and hashes. */
export const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** glibc's default and bounds of the rounds parameter. */
export const DEFAULT_ROUNDS = 5000;
export const MIN_ROUNDS = 1000;
export const MAX_ROUNDS = 999_999_999;
/** Salt characters used at most (longer salts are cut). */
export const MAX_SALT_LENGTH = 16;

export interface Sha512CryptOptions {
  /**
   * Rounds of the hash; clamped to [1000, 999999999] like glibc. When given, the hash says `rounds=N$` (as glibc does
   * for an explicit rounds= salt, even 5000); when not, it is 5000 and implicit.
   */
  rounds?: number;
}

const sha512 = (data: Buffer): Buffer => hash('sha512', data, 'buffer');

/** `data` repeated to exactly `length` bytes. */
function repeatTo(data: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let at = 0; at < length; at += data.length) data.copy(out, at, 0, Math.min(data.length, length - at));
  return out;
}

/**
 * The `$6$` hash of `password` (UTF-8) with `salt` (at most 16 characters are used; the salt may carry glibc's
 * `rounds=N$` prefix, as in `openssl passwd -6 -salt 'rounds=10000$abc'`).
 */
export function sha512Crypt(password: string, salt: string, options: Sha512CryptOptions = {}): string {
  let saltText = salt.startsWith('$6$') ? salt.slice(3) : salt;
  let rounds = DEFAULT_ROUNDS;
  let explicitRounds = false;
  const prefix = /^rounds=(\d+)\$/.exec(saltText);
  if (prefix) {
    rounds = Number(prefix[1]);
    explicitRounds = true;
    saltText = saltText.slice(prefix[0].length);
  }
  if (options.rounds !== undefined) {
    rounds = options.rounds;
    explicitRounds = true;
  }
  if (!Number.isInteger(rounds)) throw new RangeError('sha512Crypt: rounds must be an integer');
  rounds = Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, rounds));
  // the salt ends at the first "$" and is at most 16 characters
  saltText = saltText.split('$')[0]!.slice(0, MAX_SALT_LENGTH);

  const p = Buffer.from(password, 'utf8');
  const s = Buffer.from(saltText, 'utf8');

  // digest B = H(P S P); digest A = H(P S B-repeated-to-|P| and, per bit of |P|, B or P)
  const b = sha512(Buffer.concat([p, s, p]));
  const aParts: Buffer[] = [p, s, repeatTo(b, p.length)];
  for (let n = p.length; n > 0; n >>= 1) aParts.push(n & 1 ? b : p);
  const a = sha512(Buffer.concat(aParts));

  // the P and S sequences
  const dp = sha512(Buffer.concat(Array.from({ length: p.length }, () => p)));
  const pSeq = repeatTo(dp, p.length);
  const ds = sha512(Buffer.concat(Array.from({ length: 16 + a[0]! }, () => s)));
  const sSeq = ds.subarray(0, s.length);

  // the rounds: one buffer holds each round's input (at most C + S + P + P or P + S + P + C)
  const scratch = Buffer.alloc(64 + sSeq.length + 2 * pSeq.length);
  let c = a;
  for (let i = 0; i < rounds; i++) {
    let at = 0;
    const put = (part: Buffer) => {
      at += part.copy(scratch, at);
    };
    put(i & 1 ? pSeq : c);
    if (i % 3 !== 0) put(sSeq);
    if (i % 7 !== 0) put(pSeq);
    put(i & 1 ? c : pSeq);
    c = sha512(scratch.subarray(0, at));
  }

  return `$6$${explicitRounds ? `rounds=${rounds}$` : ''}${saltText}$${encodeDigest(c)}`;
}

/** glibc's base-64 of the final digest: bytes in its fixed permutation, 24 bits at a time, least significant first. */
function encodeDigest(d: Buffer): string {
  let out = '';
  const put = (b2: number, b1: number, b0: number, chars: number) => {
    let w = (b2 << 16) | (b1 << 8) | b0;
    for (let i = 0; i < chars; i++) {
      out += CRYPT_ALPHABET[w & 0x3f];
      w >>= 6;
    }
  };
  for (let i = 0; i < 21; i++) {
    const group = [d[i]!, d[i + 21]!, d[i + 42]!];
    // the three bytes of group i, rotated by i: (0,21,42), (22,43,1), (44,2,23), (3,24,45)...
    const r = i % 3;
    put(group[r]!, group[(r + 1) % 3]!, group[(r + 2) % 3]!, 4);
  }
  put(0, 0, d[63]!, 2);
  return out;
}
