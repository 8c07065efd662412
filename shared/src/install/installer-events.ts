// What an installer's progress events mean for a host's status. Subiquity and curtin post reporting events
// ({name, event_type: start|finish, result on finish: SUCCESS|WARN|FAIL, description, origin, timestamp, level})
// to the webhook anvil configures in the rendered user-data; the boot-server turns each into a status update
// with these pure functions, and the BareMetalHost controller moves its state machine on from that status.

export interface InstallerEvent {
  name: string;
  event_type: string;
  description?: string;
  result?: string;
  origin?: string;
  timestamp?: number;
  level?: string;
}

export type InstallVerdict = 'SUCCESS' | 'FAIL' | undefined;

/** Subiquity's outermost install step; its successful finish means the system is installed. */
export const INSTALL_COMPLETE_EVENTS = ['subiquity/Install/install', 'anvil/install/complete'] as const;

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

export function validateInstallerEvent(body: unknown): { event: InstallerEvent } | { error: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: 'event must be a JSON object' };
  const e = body as Record<string, unknown>;
  if (typeof e.name !== 'string' || !e.name || e.name.length > 512) return { error: 'event "name" must be a non-empty string of at most 512 characters' };
  if (typeof e.event_type !== 'string' || !e.event_type) return { error: 'event "event_type" must be a string such as start or finish' };
  if (e.result !== undefined && !['SUCCESS', 'WARN', 'FAIL'].includes(String(e.result))) return { error: 'event "result" must be SUCCESS, WARN or FAIL' };
  if (e.timestamp !== undefined && (typeof e.timestamp !== 'number' || !Number.isFinite(e.timestamp))) return { error: 'event "timestamp" must be a unix time in seconds' };
  const event: InstallerEvent = { name: e.name, event_type: e.event_type };
  if (typeof e.description === 'string') event.description = e.description;
  if (typeof e.result === 'string') event.result = e.result;
  if (typeof e.origin === 'string') event.origin = e.origin;
  if (typeof e.timestamp === 'number') event.timestamp = e.timestamp;
  if (typeof e.level === 'string') event.level = e.level;
  return { event };
}

/** SUCCESS when the install completed, FAIL when a step failed fatally, undefined while it runs. */
export function verdictOf(event: InstallerEvent): InstallVerdict {
  if (event.event_type !== 'finish') return undefined;
  if (event.result === 'FAIL') return 'FAIL';
  if (event.result === 'SUCCESS' && (INSTALL_COMPLETE_EVENTS as readonly string[]).includes(event.name)) return 'SUCCESS';
  return undefined;
}

/** The stage an event belongs to, from its name (e.g. subiquity/Install/install/curthooks -> curthooks). */
export function stageOf(event: InstallerEvent): string | undefined {
  if (verdictOf(event) === 'SUCCESS') return 'complete';
  const parts = event.name.toLowerCase().split('/');
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i]!.replace(/-/g, '_');
    const stage = INSTALL_STAGES.find((s) => part === s || part.endsWith(`_${s}`) || part.startsWith(`${s}_`) || (s === 'partitioning' && part === 'cmd_block_meta'));
    if (stage) return stage;
  }
  return undefined;
}

export function progressOf(stage: string | undefined): string | undefined {
  if (!stage) return undefined;
  const i = (INSTALL_STAGES as readonly string[]).indexOf(stage);
  return i < 0 ? stage : `${i + 1}/${INSTALL_STAGES.length} ${stage}`;
}

export const eventTime = (event: InstallerEvent, now: Date = new Date()): string =>
  (event.timestamp !== undefined ? new Date(event.timestamp * 1000) : now).toISOString();

/** A key that is the same for a repeated delivery of the same event (for idempotent storage). */
export const eventKey = (event: InstallerEvent): string => [event.name, event.event_type, event.result ?? '', event.timestamp ?? ''].join('|');
