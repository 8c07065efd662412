// Debian installer events: the preseed hooks' debian-installer/install is a top-level context (its finish is the
// verdict), and d-i's steps from its syslog are stages of their own, or anvil's where one matches.
import { failureOf, stageOf, verdictOf } from './installer-events.js';

const ev = (name: string, event_type: string, result?: 'SUCCESS' | 'FAIL') => ({ name, event_type, ...(result ? { result } : {}) });

describe('debian-installer events', () => {
  it('takes the finish of debian-installer/install as the verdict, and no step finish', () => {
    expect(verdictOf(ev('debian-installer/install', 'finish', 'SUCCESS'))).toBe('SUCCESS');
    expect(verdictOf(ev('debian-installer/install', 'finish', 'FAIL'))).toBe('FAIL');
    expect(verdictOf(ev('debian-installer/install', 'start'))).toBeUndefined();
    expect(verdictOf(ev('debian-installer/choose-mirror', 'finish', 'FAIL'))).toBeUndefined();
  });

  it("names d-i's steps as stages, anvil's where they match", () => {
    expect(['netcfg', 'choose-mirror', 'partman-base', 'bootstrap-base', 'apt-setup-udeb', 'pkgsel', 'finish-install'].map((s) => stageOf(ev(`debian-installer/${s}`, 'start')))).toEqual([
      'netcfg',
      'choose-mirror',
      'partitioning',
      'extract',
      'configure_apt',
      'pkgsel',
      'postinstall',
    ]);
    expect(stageOf(ev('debian-installer/install', 'start'))).toBeUndefined();
    expect(failureOf({ ...ev('debian-installer/choose-mirror', 'finish', 'FAIL'), description: 'choosing a Debian mirror failed' })).toEqual({
      stage: 'choose-mirror',
      reason: 'choosing a Debian mirror failed',
      event: 'debian-installer/choose-mirror',
    });
  });
});
