// Builders of conformance-suite data, also used by integration tests of the history API: deterministic ids and times,
// install starts, and installer events shaped as subiquity sends them.
import type * as JestGlobals from '@jest/globals';
import type { InstallStarted } from '../history-store.js';
import type { InstallerEvent } from '../../install/installer-events.js';

/** The jest functions a suite is given (so the suite has no runtime dependency on jest). */
export type Jest = Pick<typeof JestGlobals, 'describe' | 'it' | 'expect' | 'beforeAll' | 'afterAll' | 'beforeEach'>;

/** A deterministic UUID from a number: uuid(1) = 00000000-0000-4000-8000-000000000001. */
export const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
export const at = (seconds: number): Date => new Date(T0 + seconds * 1000);

export const started = (n: number, over: Partial<InstallStarted> = {}): InstallStarted => ({
  installationId: uuid(n),
  host: { namespace: 'default', name: 'node-01', uid: 'uid-1' },
  mac: '52:54:00:00:00:01',
  template: { name: 'ubuntu-24.04', contentHash: 'sha256:abc', generation: 3 },
  revision: 0,
  attempt: n,
  startedAt: at(n * 10_000),
  ...over,
});

export const YEAR = 365 * 86_400;
export const INSTALL = 'subiquity/Install/install';
export const STEP = `${INSTALL}/curtin_install/run_curtin_step`;

/** A failure in curtin's partitioning stage as subiquity reports it (every curtin event at level DEBUG), from t seconds. */
export const partitioningFailure = (t: number): InstallerEvent[] => {
  const error = "Command ['python3', '-m', 'curtin', 'install'] returned non-zero exit status 3.";
  const debug = { origin: 'curtin', level: 'DEBUG' };
  return [
    ev(t, INSTALL, 'start', { level: 'DEBUG' }),
    ev(t + 10, STEP, 'start', { description: 'executing curtin install partitioning step', level: 'DEBUG' }),
    ev(t + 11, `${STEP}/cmd-install`, 'start', { description: 'curtin command install', ...debug }),
    ev(t + 12, `${STEP}/cmd-install/stage-partitioning`, 'start', { description: 'configuring storage', ...debug }),
    ev(t + 12, `${STEP}/cmd-install/stage-partitioning/builtin/cmd-block-meta`, 'start', { description: 'curtin command block-meta', ...debug }),
    ev(t + 13, `${STEP}/cmd-install/stage-partitioning`, 'finish', { result: 'FAIL', description: 'configuring storage', ...debug }),
    ev(t + 14, `${STEP}/cmd-install`, 'finish', { result: 'FAIL', description: 'curtin command install', ...debug }),
    ev(t + 15, STEP, 'finish', { result: 'FAIL', description: error, level: 'ERROR' }),
    ev(t + 16, INSTALL, 'finish', { result: 'FAIL', description: error, level: 'DEBUG' }),
    ev(t + 17, 'subiquity/Error/run/run/command_0', 'start', { description: 'journalctl -b > /tmp/j' }),
    ev(t + 18, 'subiquity/Error/run/run/command_0', 'finish', { result: 'SUCCESS', description: 'journalctl -b > /tmp/j' }),
  ];
};

export const ev = (i: number, name: string, event_type: string, extra: Partial<InstallerEvent> = {}): InstallerEvent => ({
  name,
  event_type,
  origin: 'subiquity',
  timestamp: T0 / 1000 + i,
  ...extra,
});
