// The diff gate's first half: what kind of change a new template revision makes to what a machine receives. The
// classes follow how much of an installed machine a change can break, from nothing to everything: a policy allows the
// lower classes automatically and asks a person for the rest (gate.ts).
import { isDeepStrictEqual } from 'node:util';

export const CHANGE_CLASSES = ['none', 'post-install', 'packages', 'system', 'network', 'storage', 'installer'] as const;
/**
 * - none: nothing a machine receives changed (e.g. a comment).
 * - post-install: commands and files applied at the end or on first boot (late-commands, error-commands, user-data,
 *   reporting): a bad one fails the install, it cannot lose data of another stage.
 * - packages: what is installed (packages, snaps, apt sources, kernel, drivers, codecs, updates).
 * - system: identity, locale, keyboard, timezone, ssh, source: the installed system's settings.
 * - network: how the machine reaches the network during and after the install.
 * - storage: the disk layout: a mistake destroys data.
 * - installer: the boot artifacts (kernel, initrd, ISO), kernel arguments or the installer kind itself.
 */
export type ChangeClass = (typeof CHANGE_CLASSES)[number];

export const rankOf = (c: ChangeClass): number => CHANGE_CLASSES.indexOf(c);
export const highestOf = (classes: readonly ChangeClass[]): ChangeClass =>
  classes.reduce<ChangeClass>((hi, c) => (rankOf(c) > rankOf(hi) ? c : hi), 'none');

/** Autoinstall's top-level keys by class; a key not listed counts as `system` (unknown is never treated as harmless). */
const AUTOINSTALL_KEY_CLASSES: Readonly<Record<string, ChangeClass>> = {
  version: 'none',
  'late-commands': 'post-install',
  'error-commands': 'post-install',
  'early-commands': 'installer',
  'user-data': 'post-install',
  reporting: 'post-install',
  packages: 'packages',
  snaps: 'packages',
  apt: 'packages',
  kernel: 'packages',
  drivers: 'packages',
  codecs: 'packages',
  oem: 'packages',
  updates: 'packages',
  identity: 'system',
  'ubuntu-pro': 'system',
  ssh: 'system',
  locale: 'system',
  keyboard: 'system',
  timezone: 'system',
  source: 'system',
  'refresh-installer': 'installer',
  'interactive-sections': 'installer',
  shutdown: 'post-install',
  network: 'network',
  proxy: 'network',
  storage: 'storage',
  debconf: 'system',
  zdevs: 'storage',
};

export interface ChangedPart {
  /** Where, e.g. `autoinstall.storage` or `boot.kernel`. */
  path: string;
  class: ChangeClass;
}

/** What a machine receives from one template revision, as far as the gate compares it. */
export interface InstallPayload {
  /** The rendered autoinstall document (user-data's `autoinstall:`), or another kind's configuration. */
  config: Record<string, unknown>;
  /** The installer kind, e.g. ubuntu-autoinstall. */
  installer?: string;
  /** Boot artifacts by role (kernel, initrd, iso) as url + sha256. */
  boot?: Record<string, { url: string; sha256: string } | undefined>;
  kernelArgs?: readonly string[];
}

/** Every part that differs between two payloads, each with its class; empty when nothing a machine receives changed. */
export function changedParts(before: InstallPayload, after: InstallPayload): ChangedPart[] {
  const parts: ChangedPart[] = [];
  if ((before.installer ?? '') !== (after.installer ?? '')) parts.push({ path: 'installer', class: 'installer' });
  for (const role of unionKeys(before.boot ?? {}, after.boot ?? {})) {
    if (before.boot?.[role]?.sha256.toLowerCase() !== after.boot?.[role]?.sha256.toLowerCase()) parts.push({ path: `boot.${role}`, class: 'installer' });
  }
  if (!isDeepStrictEqual(before.kernelArgs ?? [], after.kernelArgs ?? [])) parts.push({ path: 'kernelArgs', class: 'installer' });
  for (const key of unionKeys(before.config, after.config)) {
    if (isDeepStrictEqual(before.config[key], after.config[key])) continue;
    parts.push({ path: `autoinstall.${key}`, class: AUTOINSTALL_KEY_CLASSES[key] ?? 'system' });
  }
  return parts;
}

/** The class of the whole change: the highest of its parts. */
export const classifyChange = (before: InstallPayload, after: InstallPayload): ChangeClass => highestOf(changedParts(before, after).map((p) => p.class));

const unionKeys = (a: object, b: object): string[] => [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
