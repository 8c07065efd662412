import { progressOf, stageOf, validateInstallerEvent, verdictOf } from './installer-events.js';

describe('installer events', () => {
  it('validates the webhook body with clear messages', () => {
    expect(validateInstallerEvent('x')).toEqual({ error: 'event must be a JSON object' });
    expect(validateInstallerEvent({ event_type: 'start' })).toMatchObject({ error: expect.stringContaining('"name"') });
    expect(validateInstallerEvent({ name: 'a', event_type: 'finish', result: 'MAYBE' })).toMatchObject({ error: expect.stringContaining('SUCCESS, WARN or FAIL') });
    expect(validateInstallerEvent({ name: 'a', event_type: 'start', timestamp: 1.5, extra: 1 })).toEqual({ event: { name: 'a', event_type: 'start', timestamp: 1.5 } });
  });

  it('finds the verdict: success only at the end, failure at any fatal step', () => {
    expect(verdictOf({ name: 'subiquity/Install/install/curthooks', event_type: 'finish', result: 'SUCCESS' })).toBeUndefined();
    expect(verdictOf({ name: 'subiquity/Install/install', event_type: 'start' })).toBeUndefined();
    expect(verdictOf({ name: 'subiquity/Install/install', event_type: 'finish', result: 'SUCCESS' })).toBe('SUCCESS');
    expect(verdictOf({ name: 'cmd-install/stage-curthooks', event_type: 'finish', result: 'FAIL' })).toBe('FAIL');
    expect(verdictOf({ name: 'cmd-install/stage-curthooks', event_type: 'finish', result: 'WARN' })).toBeUndefined();
  });

  it('derives stage and progress from event names', () => {
    expect(stageOf({ name: 'subiquity/Install/install/curthooks', event_type: 'start' })).toBe('curthooks');
    expect(stageOf({ name: 'subiquity/Early/run', event_type: 'start' })).toBeUndefined();
    expect(stageOf({ name: 'subiquity/Install/install/run_late_commands', event_type: 'start' })).toBe('late_commands');
    expect(progressOf('curthooks')).toBe('5/8 curthooks');
    expect(progressOf(undefined)).toBeUndefined();
  });
});
