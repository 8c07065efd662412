// What an installer's progress events mean for a host's status. Subiquity and curtin post reporting events
// ({name, event_type: start|finish, result on finish: SUCCESS|WARN|FAIL, description, origin, timestamp, level})
// to the webhook anvil configures in the rendered user-data; the boot-server checks and normalises each before it
// acknowledges it (normalize.ts), and turns it into a status update with these pure functions. The BareMetalHost
// controller moves its state machine on from that status.

import type { InstallerEvent } from './event.js';

export type { InstallerEvent };

export type InstallVerdict = 'SUCCESS' | 'FAIL' | undefined;

/**
 * The installer's top-level contexts: only their finish decides an install (see docs/history.md, "Verdict").
 * subiquity reports the overall result as `subiquity/Install/install`; anvil's own test installer as
 * `anvil/install/complete`; Debian's installer, through the preseed hooks anvil adds, as `debian-installer/install`.
 * A FAIL anywhere below only marks the install failing.
 */
export const TOP_LEVEL_CONTEXTS = ['subiquity/Install/install', 'anvil/install/complete', 'debian-installer/install'] as const;
/** @deprecated the same list under its earlier name. */
export const INSTALL_COMPLETE_EVENTS = TOP_LEVEL_CONTEXTS;

/** Install stages in the order subiquity runs them, for the progress column. */
export const INSTALL_STAGES = [
  'early_commands',
  'configure_apt',
  'partitioning',
  'extract',
  'curthooks',
  'postinstall',
  'late_commands',
  'complete',
] as const;

export { validateInstallerEvent } from './normalize.js';

/** Names as installers send them may end in `/` (subiquity contexts with an empty child name). */
export const normalizeName = (name: string): string => name.replace(/\/+$/, '') || name;

export const isTopLevel = (event: InstallerEvent): boolean => (TOP_LEVEL_CONTEXTS as readonly string[]).includes(normalizeName(event.name));

/** The install's result, from its top-level finish only; undefined while it runs (a nested FAIL is not a verdict). */
export function verdictOf(event: InstallerEvent): InstallVerdict {
  if (event.event_type !== 'finish' || !isTopLevel(event)) return undefined;
  if (event.result === 'FAIL') return 'FAIL';
  // WARN at the top means it installed with warnings: the system is there.
  if (event.result === 'SUCCESS' || event.result === 'WARN') return 'SUCCESS';
  return undefined;
}

/** A FAIL finish below the top level: the install is failing; the deepest one explains why. */
export const isNestedFailure = (event: InstallerEvent): boolean => event.event_type === 'finish' && event.result === 'FAIL' && !isTopLevel(event);

export const nameDepth = (name: string): number => normalizeName(name).split('/').length;

export interface InstallFailure {
  /** The install stage the failing step belongs to, e.g. partitioning; 'unknown' when its name says nothing. */
  stage: string;
  /** The description of the deepest FAIL (what went wrong), or its name when it had none. */
  reason: string;
  /** The failing event's name. */
  event: string;
}

/** The failure an event reports, if it is a FAIL finish (nested or top-level). */
export function failureOf(event: InstallerEvent): InstallFailure | undefined {
  if (event.event_type !== 'finish' || event.result !== 'FAIL') return undefined;
  return { stage: stageOf(event) ?? 'unknown', reason: (event.description ?? '').trim() || normalizeName(event.name), event: normalizeName(event.name) };
}

/**
 * Of two failures, the one that explains the install: the deeper name (the innermost failing step; its ancestors fail
 * because of it), and on equal depth the one seen first. A top-level FAIL only explains when nothing nested failed.
 */
export function deeperFailure(current: InstallFailure | undefined, candidate: InstallFailure | undefined): InstallFailure | undefined {
  if (!candidate) return current;
  if (!current) return candidate;
  return nameDepth(candidate.event) > nameDepth(current.event) ? candidate : current;
}

const STAGE_ALIASES: Record<string, (typeof INSTALL_STAGES)[number]> = {
  cmd_block_meta: 'partitioning',
  stage_partitioning: 'partitioning',
  block_meta: 'partitioning',
  cmd_extract: 'extract',
  stage_extract: 'extract',
  cmd_curthooks: 'curthooks',
  stage_curthooks: 'curthooks',
  cmd_apt_config: 'configure_apt',
  apt_config: 'configure_apt',
  run_late_commands: 'late_commands',
  late_commands: 'late_commands',
  early_commands: 'early_commands',
};

/** d-i's steps (main-menu items, from its syslog) that are one of the stages above; the others are their own stage. */
const D_I_STAGES: Record<string, (typeof INSTALL_STAGES)[number]> = {
  'partman-base': 'partitioning',
  'bootstrap-base': 'extract',
  'apt-setup-udeb': 'configure_apt',
  'finish-install': 'postinstall',
};

/** The stage an event belongs to, from its name (e.g. subiquity/Install/install/curthooks -> curthooks). */
export function stageOf(event: InstallerEvent): string | undefined {
  if (verdictOf(event) === 'SUCCESS') return 'complete';
  const step = /^debian-installer\/([^/]+)$/.exec(normalizeName(event.name))?.[1];
  if (step !== undefined && step !== 'install') return D_I_STAGES[step] ?? step;
  const parts = normalizeName(event.name).toLowerCase().split('/');
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i]!.replace(/-/g, '_');
    const alias = STAGE_ALIASES[part];
    if (alias) return alias;
    const stage = INSTALL_STAGES.find((s) => part === s || part.endsWith(`_${s}`) || part.startsWith(`${s}_`));
    if (stage) return stage;
  }
  return undefined;
}

export function progressOf(stage: string | undefined): string | undefined {
  if (!stage) return undefined;
  const i = (INSTALL_STAGES as readonly string[]).indexOf(stage);
  return i < 0 ? stage : `${i + 1}/${INSTALL_STAGES.length} ${stage}`;
}

/** The event's time by the installer's clock (normalize.ts guarantees a representable one), or `now`. */
export function eventTime(event: InstallerEvent, now: Date = new Date()): string {
  const t = event.timestamp !== undefined ? new Date(event.timestamp * 1000) : now;
  return Number.isNaN(t.getTime()) ? now.toISOString() : t.toISOString();
}

/**
 * A key that is the same for a repeated delivery of the same event (for idempotent storage). Without an installer
 * timestamp two different events could look alike, so the time it was received (fixed once spooled) is part of it.
 */
export const eventKey = (event: InstallerEvent, receivedAt?: string): string =>
  [normalizeName(event.name), event.event_type, event.result ?? '', event.timestamp ?? (receivedAt ? `r${receivedAt}` : '')].join('|');
