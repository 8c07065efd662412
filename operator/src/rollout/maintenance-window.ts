// Maintenance windows: a cron schedule (five fields: minute hour day-of-month month day-of-week) of window starts in
// a time zone, and how long each window stays open. Waves start only inside a window; a wave already running finishes.
// Day-of-month and day-of-week combine as in cron: when both are restricted, a day matching either counts.

export interface MaintenanceWindow {
  /** Cron schedule of the window starts, e.g. "0 22 * * 1-5" (22:00 on weekdays). */
  schedule: string;
  /** How long a window stays open, minutes (1 to 1440). */
  durationMinutes: number;
  /** IANA time zone of the schedule, e.g. Europe/Berlin. Default UTC. */
  timeZone?: string;
}

interface CronFields {
  minute: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  month: Set<number>;
  dow: Set<number>;
  domRestricted: boolean;
  dowRestricted: boolean;
}

const RANGES: readonly [string, number, number][] = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 7],
];

export class WindowError extends Error {}

function parseField(text: string, [what, min, max]: readonly [string, number, number]): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new WindowError(`${what}: "${part}" is not a number, range, list or step`);
    const lo = m[1] === '*' ? min : Number(m[2]);
    const hi = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : lo;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (lo < min || hi > max || lo > hi || step < 1) throw new WindowError(`${what}: "${part}" is outside ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) out.add(what === 'day of week' && v === 7 ? 0 : v);
  }
  return out;
}

export function parseSchedule(schedule: string): CronFields {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) throw new WindowError(`schedule "${schedule}" must have five fields: minute hour day-of-month month day-of-week`);
  const [minute, hour, dom, month, dow] = fields.map((f, i) => parseField(f, RANGES[i]!)) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  return { minute, hour, dom, month, dow, domRestricted: fields[2] !== '*', dowRestricted: fields[4] !== '*' };
}

/** Checks a window's fields; returns the problem, or undefined. */
export function windowProblem(w: MaintenanceWindow): string | undefined {
  try {
    parseSchedule(w.schedule);
    if (!Number.isInteger(w.durationMinutes) || w.durationMinutes < 1 || w.durationMinutes > 1440) return 'durationMinutes must be a whole number of minutes from 1 to 1440';
    zoneParts(new Date(0), w.timeZone ?? 'UTC');
    return undefined;
  } catch (err) {
    return err instanceof RangeError ? `unknown time zone "${w.timeZone}"` : err instanceof Error ? err.message : String(err);
  }
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function zoneParts(at: Date, timeZone: string): WallClock {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday ?? '');
  return { year: Number(p.year), month: Number(p.month), day: Number(p.day), hour: Number(p.hour), minute: Number(p.minute), weekday };
}

function dayMatches(c: CronFields, w: WallClock): boolean {
  if (!c.month.has(w.month)) return false;
  const dom = c.dom.has(w.day);
  const dow = c.dow.has(w.weekday);
  if (c.domRestricted && c.dowRestricted) return dom || dow;
  return dom && dow;
}

const matches = (c: CronFields, w: WallClock): boolean => c.minute.has(w.minute) && c.hour.has(w.hour) && dayMatches(c, w);

const MINUTE = 60_000;

/** The start of the window open at `now`, or undefined when none is. */
export function openWindowStart(now: Date, w: MaintenanceWindow): Date | undefined {
  const c = parseSchedule(w.schedule);
  const zone = w.timeZone ?? 'UTC';
  const base = Math.floor(now.getTime() / MINUTE) * MINUTE;
  for (let i = 0; i < w.durationMinutes; i++) {
    const t = new Date(base - i * MINUTE);
    if (matches(c, zoneParts(t, zone))) return t;
  }
  return undefined;
}

/** The next window start after `now`, looking up to `horizonDays` ahead (a schedule may never match, e.g. 31 Feb). */
export function nextWindowStart(now: Date, w: MaintenanceWindow, horizonDays = 366): Date | undefined {
  const c = parseSchedule(w.schedule);
  const zone = w.timeZone ?? 'UTC';
  let t = Math.floor(now.getTime() / MINUTE) * MINUTE + MINUTE;
  const end = t + horizonDays * 24 * 60 * MINUTE;
  while (t < end) {
    const wall = zoneParts(new Date(t), zone);
    if (matches(c, wall)) return new Date(t);
    // skip towards the next local day or hour that can match; a day skip stops an hour short, so a shorter day (the
    // switch to daylight saving time) cannot make it overshoot midnight
    if (!dayMatches(c, wall)) t += Math.max(60 - wall.minute, (23 - wall.hour) * 60 - wall.minute) * MINUTE;
    else if (!c.hour.has(wall.hour)) t += (60 - wall.minute) * MINUTE;
    else t += MINUTE;
  }
  return undefined;
}

/** Whether any window is open; no windows at all means always open. */
export const inAnyWindow = (now: Date, windows: readonly MaintenanceWindow[]): boolean =>
  windows.length === 0 || windows.some((w) => openWindowStart(now, w) !== undefined);

/** The soonest next start among the windows. */
export function nextOpening(now: Date, windows: readonly MaintenanceWindow[]): Date | undefined {
  const starts = windows.map((w) => nextWindowStart(now, w)).filter((d): d is Date => d !== undefined);
  return starts.length ? new Date(Math.min(...starts.map((d) => d.getTime()))) : undefined;
}
