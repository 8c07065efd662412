// The salts of password_hash. A salt must differ between installs (so equal passwords do not hash alike across
// hosts and attempts) but stay the same for one install attempt, so that rendering the attempt again (an operator
// restart, a resync, an unrelated change) publishes the same hash instead of churning the boot config.
//
// Each salt is HMAC-SHA256, keyed by the attempt (its installationId), over where the password comes from (host,
// Secret, key): never over the password itself, since the salt is published next to the hash and a salt computed
// from the password would let anyone who knows the key test guesses with one HMAC instead of the crypt rounds.
import { createHmac } from 'node:crypto';
import type { HostObject, SecretValues } from './context.js';
import { CRYPT_ALPHABET, MAX_SALT_LENGTH } from './sha512-crypt.js';

/** A 16-character crypt(3) salt for the password found at `reference`, in the attempt that `key` names. */
export function passwordSalt(key: string, reference: string): string {
  const mac = createHmac('sha256', key).update(`anvil.dev/password-salt/v1\u0000${reference}`).digest();
  let salt = '';
  // 64 divides 256: taking 6 bits of a byte is unbiased
  for (let i = 0; i < MAX_SALT_LENGTH; i++) salt += CRYPT_ALPHABET[mac[i]! & 0x3f];
  return salt;
}

/**
 * The salt of every secret value of a render, as [value, salt] pairs: the filter only sees the value. A value held by
 * several references takes the salt of the first (secretRefs order, then keys in order).
 */
export function passwordSalts(host: HostObject, secrets: SecretValues, key: string): [value: string, salt: string][] {
  const refs = new Map((host.spec.secretRefs ?? []).map((ref) => [ref.variable, ref]));
  const hostRef = `${host.metadata.namespace ?? ''}/${host.metadata.name ?? ''}`;
  const salts = new Map<string, string>();
  for (const [variable, value] of Object.entries(secrets)) {
    const ref = refs.get(variable);
    const secretName = ref?.name ?? variable;
    const entries: [string, string][] = typeof value === 'string' ? [[ref?.key ?? '', value]] : Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [secretKey, secretValue] of entries) {
      if (!salts.has(secretValue)) salts.set(secretValue, passwordSalt(key, `${hostRef}\u0000${secretName}\u0000${secretKey}`));
    }
  }
  return [...salts];
}
