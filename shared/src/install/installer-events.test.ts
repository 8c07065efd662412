import { deeperFailure, eventKey, failureOf, isNestedFailure, progressOf, stageOf, validateInstallerEvent, verdictOf } from './installer-events.js';

describe('installer events', () => {
  it('validates the webhook body with clear messages', () => {
    expect(validateInstallerEvent('x')).toEqual({ error: 'event must be a JSON object' });
    expect(validateInstallerEvent({ event_type: 'start' })).toMatchObject({ error: expect.stringContaining('"name"') });
    expect(validateInstallerEvent({ name: 'a', event_type: 'finish', result: 'MAYBE' })).toMatchObject({ error: expect.stringContaining('SUCCESS, WARN or FAIL') });
    expect(validateInstallerEvent({ name: 'a', event_type: 'start', timestamp: 1.5, extra: 1 })).toEqual({ event: { name: 'a', event_type: 'start', timestamp: 1.5 } });
  });

  it('takes the verdict from the top-level context only: a nested FAIL marks the install failing', () => {
    expect(verdictOf({ name: 'subiquity/Install/install/curthooks', event_type: 'finish', result: 'SUCCESS' })).toBeUndefined();
    expect(verdictOf({ name: 'subiquity/Install/install', event_type: 'start' })).toBeUndefined();
    expect(verdictOf({ name: 'subiquity/Install/install', event_type: 'finish', result: 'SUCCESS' })).toBe('SUCCESS');
    expect(verdictOf({ name: 'subiquity/Install/install/', event_type: 'finish', result: 'FAIL' })).toBe('FAIL');
    expect(verdictOf({ name: 'cmd-install/stage-curthooks', event_type: 'finish', result: 'FAIL' })).toBeUndefined();
    expect(isNestedFailure({ name: 'cmd-install/stage-curthooks', event_type: 'finish', result: 'FAIL' })).toBe(true);
    expect(isNestedFailure({ name: 'subiquity/Install/install', event_type: 'finish', result: 'FAIL' })).toBe(false);
    expect(verdictOf({ name: 'cmd-install/stage-curthooks', event_type: 'finish', result: 'WARN' })).toBeUndefined();
  });

  it('explains a failure by its deepest failing step, whatever came later', () => {
    const inner = failureOf({ name: 'subiquity/Install/install/curtin_install/cmd-install/stage-partitioning/builtin/cmd-block-meta', event_type: 'finish', result: 'FAIL', description: 'wipefs failed on /dev/sda' });
    const outer = failureOf({ name: 'subiquity/Install/install/curtin_install', event_type: 'finish', result: 'FAIL', description: '' });
    expect(inner).toEqual({ stage: 'partitioning', reason: 'wipefs failed on /dev/sda', event: expect.stringContaining('cmd-block-meta') });
    expect(outer?.reason).toBe('subiquity/Install/install/curtin_install');
    expect(deeperFailure(inner, outer)).toBe(inner);
    expect(deeperFailure(outer, inner)).toBe(inner);
    expect(deeperFailure(undefined, outer)).toBe(outer);
  });

  it('keys events for idempotent storage, with the receive time when the installer sent no timestamp', () => {
    expect(eventKey({ name: 'a/', event_type: 'start', timestamp: 5 })).toBe('a|start||5');
    expect(eventKey({ name: 'a', event_type: 'start' }, '2026-01-01T00:00:00.000Z')).toBe('a|start||r2026-01-01T00:00:00.000Z');
  });

  it('derives stage and progress from event names', () => {
    expect(stageOf({ name: 'subiquity/Install/install/curthooks', event_type: 'start' })).toBe('curthooks');
    expect(stageOf({ name: 'subiquity/Early/run', event_type: 'start' })).toBeUndefined();
    expect(stageOf({ name: 'subiquity/Install/install/run_late_commands', event_type: 'start' })).toBe('late_commands');
    expect(progressOf('curthooks')).toBe('5/8 curthooks');
    expect(progressOf(undefined)).toBeUndefined();
  });
});
