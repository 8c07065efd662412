import { describe, expect, it } from '@jest/globals';
import { inAnyWindow, nextOpening, nextWindowStart, openWindowStart, windowProblem, type MaintenanceWindow } from './maintenance-window.js';

const weekdayEvenings: MaintenanceWindow = { schedule: '0 22 * * 1-5', durationMinutes: 120, timeZone: 'Europe/Berlin' };

describe('maintenance windows', () => {
  it('is open from a start for its duration, in its time zone', () => {
    // Monday 2026-12-07: 22:00 in Berlin is 21:00 UTC
    expect(openWindowStart(new Date('2026-12-07T21:30:00Z'), weekdayEvenings)?.toISOString()).toBe('2026-12-07T21:00:00.000Z');
    expect(openWindowStart(new Date('2026-12-07T22:59:59Z'), weekdayEvenings)?.toISOString()).toBe('2026-12-07T21:00:00.000Z');
    expect(openWindowStart(new Date('2026-12-07T23:00:00Z'), weekdayEvenings)).toBeUndefined();
    expect(openWindowStart(new Date('2026-12-07T20:59:00Z'), weekdayEvenings)).toBeUndefined();
    // Saturday: closed
    expect(openWindowStart(new Date('2026-12-12T21:30:00Z'), weekdayEvenings)).toBeUndefined();
  });

  it('finds the next start, over a weekend and in summer time', () => {
    expect(nextWindowStart(new Date('2026-12-11T23:00:00Z'), weekdayEvenings)?.toISOString()).toBe('2026-12-14T21:00:00.000Z');
    expect(nextWindowStart(new Date('2027-07-01T12:00:00Z'), weekdayEvenings)?.toISOString()).toBe('2027-07-01T20:00:00.000Z');
  });

  it('skips a start that does not exist on the day clocks go forward, and keeps midnight of the next day', () => {
    // Berlin 2027-03-28: 02:00 jumps to 03:00
    const halfPastTwo: MaintenanceWindow = { schedule: '30 2 * * *', durationMinutes: 30, timeZone: 'Europe/Berlin' };
    expect(nextWindowStart(new Date('2027-03-27T12:00:00Z'), halfPastTwo)?.toISOString()).toBe('2027-03-29T00:30:00.000Z');
    const midnight: MaintenanceWindow = { schedule: '0 0 * * *', durationMinutes: 30, timeZone: 'Europe/Berlin' };
    expect(nextWindowStart(new Date('2027-03-27T23:30:00Z'), midnight)?.toISOString()).toBe('2027-03-28T22:00:00.000Z');
  });

  it('reads cron lists, ranges, steps and both day fields like cron', () => {
    const w: MaintenanceWindow = { schedule: '*/15 3,4 1 * 0', durationMinutes: 1 };
    // the 1st of the month OR a Sunday
    expect(nextWindowStart(new Date('2026-12-07T05:00:00Z'), w)?.toISOString()).toBe('2026-12-13T03:00:00.000Z');
    expect(openWindowStart(new Date('2027-01-01T04:45:30Z'), w)?.toISOString()).toBe('2027-01-01T04:45:00.000Z');
    expect(nextWindowStart(new Date('2026-12-07T00:00:00Z'), { schedule: '0 0 31 2 *', durationMinutes: 1 })).toBeUndefined();
  });

  it('is always open without windows, and gives the soonest next opening of several', () => {
    expect(inAnyWindow(new Date('2026-12-12T21:30:00Z'), [])).toBe(true);
    expect(inAnyWindow(new Date('2026-12-12T21:30:00Z'), [weekdayEvenings])).toBe(false);
    const saturdayNoon: MaintenanceWindow = { schedule: '0 12 * * 6', durationMinutes: 60 };
    expect(nextOpening(new Date('2026-12-11T23:00:00Z'), [weekdayEvenings, saturdayNoon])?.toISOString()).toBe('2026-12-12T12:00:00.000Z');
  });

  it('explains a malformed window', () => {
    expect(windowProblem({ schedule: '0 22 * *', durationMinutes: 60 })).toBe('schedule "0 22 * *" must have five fields: minute hour day-of-month month day-of-week');
    expect(windowProblem({ schedule: '0 25 * * *', durationMinutes: 60 })).toBe('hour: "25" is outside 0-23');
    expect(windowProblem({ schedule: '0 x * * *', durationMinutes: 60 })).toBe('hour: "x" is not a number, range, list or step');
    expect(windowProblem({ schedule: '0 22 * * *', durationMinutes: 0 })).toBe('durationMinutes must be a whole number of minutes from 1 to 1440');
    expect(windowProblem({ schedule: '0 22 * * *', durationMinutes: 60, timeZone: 'Mars/Olympus' })).toBe('unknown time zone "Mars/Olympus"');
    expect(windowProblem(weekdayEvenings)).toBeUndefined();
  });
});
