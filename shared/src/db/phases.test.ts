import { describe, it, expect } from '@jest/globals';
import { deriveFailure, derivePhases, formatDuration, type Phase, type TimelineEvent } from './phases.js';

// Event streams shaped like what subiquity 24.04 posts (names from subiquity's contexts: controller / method /
// child, curtin's events re-posted under run_curtin_step; see docs/history.md).
const T0 = Date.parse('2026-03-01T10:00:00Z');
const INSTALL = 'subiquity/Install/install';
const CURTIN = `${INSTALL}/curtin_install`;
const STEP = `${CURTIN}/run_curtin_step`;

type Spec = [at: number, name: string, type: 'start' | 'finish' | 'info', result?: string | null, description?: string];

/** Events at installer times T0 + at seconds, received in the given order 30 ms apart. */
function stream(specs: readonly Spec[]): TimelineEvent[] {
  return specs.map(([at, name, eventType, result = null, description = ''], i) => ({
    name,
    eventType,
    result: eventType === 'finish' ? (result ?? 'SUCCESS') : null,
    description,
    eventTime: new Date(T0 + at * 1000),
    receivedAt: new Date(T0 + 3_600_000 + i * 30),
  }));
}

/** A curtin step as subiquity reports it: run_curtin_step with curtin's own events below; `never` never finishes. */
function curtinStep(at: number, step: string, stage: string | null, command: string | null, result = 'SUCCESS', message?: string): Spec[] {
  const specs: Spec[] = [[at, STEP, 'start', null, `executing curtin install ${step} step`], [at + 1, `${STEP}/cmd-install`, 'start', null, 'curtin command install']];
  const fail = result === 'FAIL' ? 'FAIL' : 'SUCCESS';
  if (stage) {
    specs.push([at + 1, `${STEP}/cmd-install/stage-${stage}`, 'start', null, `stage ${stage}`]);
    specs.push([at + 2, `${STEP}/cmd-install/stage-${stage}/builtin`, 'start', null, `running 'curtin ${command}'`]);
    // curtin's subcommand starts and its finish never reaches the webhook
    specs.push([at + 2, `${STEP}/cmd-install/stage-${stage}/builtin/cmd-${command}`, 'start', null, `curtin command ${command}`]);
    specs.push([at + 20, `${STEP}/cmd-install/stage-${stage}/builtin`, 'finish', fail, `running 'curtin ${command}'`]);
    specs.push([at + 20, `${STEP}/cmd-install/stage-${stage}`, 'finish', fail, `stage ${stage}`]);
  }
  specs.push([at + 21, `${STEP}/cmd-install`, 'finish', fail, 'curtin command install']);
  specs.push([at + 22, STEP, 'finish', fail, message ?? `executing curtin install ${step} step`]);
  return specs;
}

/** A successful 24.04 autoinstall; lateFirst: 24.04.2+ runs late-commands before Install/install finishes. */
function successfulInstall(lateFirst: boolean): Spec[] {
  const at = lateFirst ? 900 : 906;
  const late: Spec[] = [
    [at, 'subiquity/Late/run', 'start', null, ''],
    [at, 'subiquity/Late/run/command_0', 'start', null, 'echo done'],
    [at + 1, 'subiquity/Late/run/command_0', 'finish', 'SUCCESS', 'echo done'],
    [at + 1, 'subiquity/Late/run', 'finish', 'SUCCESS', ''],
  ];
  return [
    [0, 'subiquity/load_autoinstall_config', 'finish', 'SUCCESS', 'loading autoinstall config'],
    [1, 'subiquity/Early/run', 'start'],
    [2, 'subiquity/Early/run', 'finish'],
    [5, INSTALL, 'start', null, ''], // starts long before the work: it waits for the config to be confirmed
    [30, 'subiquity/Mirror/cmd-apt-config', 'start', null, 'curtin command apt-config'],
    [35, 'subiquity/Mirror/cmd-apt-config', 'finish', 'SUCCESS', 'curtin command apt-config'],
    [100, `${INSTALL}/configure_apt`, 'start', null, 'configuring apt'],
    [110, `${INSTALL}/configure_apt`, 'finish', 'SUCCESS', 'configuring apt'],
    [120, CURTIN, 'start', null, 'installing system'],
    ...curtinStep(121, 'initial', null, null),
    ...curtinStep(150, 'partitioning', 'partitioning', 'block-meta'),
    ...curtinStep(200, 'extract', 'extract', 'extract'),
    ...curtinStep(400, 'curthooks', 'curthooks', 'curthooks'),
    [500, CURTIN, 'finish', 'SUCCESS', 'installing system'],
    [510, `${INSTALL}/postinstall`, 'start', null, 'final system configuration'],
    [520, `${INSTALL}/postinstall/install_openssh-server`, 'start', null, 'installing openssh-server'],
    [530, `${INSTALL}/postinstall/install_openssh-server`, 'finish', 'SUCCESS', 'installing openssh-server'],
    [800, `${INSTALL}/postinstall`, 'finish', 'SUCCESS', 'final system configuration'],
    ...(lateFirst ? late : []),
    [905, INSTALL, 'finish', 'SUCCESS', ''],
    ...(lateFirst ? [] : late),
    [910, 'subiquity/Shutdown/copy_logs_to_target', 'start', null, 'saving install logs'],
    [911, 'subiquity/Shutdown/copy_logs_to_target', 'finish', 'SUCCESS', 'saving install logs'],
  ];
}

/** Fails in curtin's partitioning stage, then the crash report and error-commands (outside the install's name tree). */
function partitioningFailure(): Spec[] {
  const error = "Command ['python3', '-m', 'curtin', '--showtrace', 'install'] returned non-zero exit status 3.";
  return [
    [5, INSTALL, 'start', null, ''],
    [100, `${INSTALL}/configure_apt`, 'start', null, 'configuring apt'],
    [110, `${INSTALL}/configure_apt`, 'finish', 'SUCCESS', 'configuring apt'],
    [120, CURTIN, 'start', null, 'installing system'],
    ...curtinStep(121, 'initial', null, null),
    ...curtinStep(150, 'partitioning', 'partitioning', 'block-meta', 'FAIL', error),
    [173, CURTIN, 'finish', 'FAIL', error],
    [174, INSTALL, 'finish', 'FAIL', error],
    [175, 'subiquity/ErrorReporter/1772359374.123.crash/add_info', 'start', null, 'adding info to problem report'],
    [176, 'subiquity/ErrorReporter/1772359374.123.crash/add_info', 'finish', 'SUCCESS', 'written to /var/crash/1772359374.123.crash'],
    [177, 'subiquity/Error/run', 'start', null, ''],
    [177, 'subiquity/Error/run/run', 'start', null, ''],
    [177, 'subiquity/Error/run/run/command_0', 'start', null, 'tar czf /tmp/logs.tgz /var/log/installer'],
    [179, 'subiquity/Error/run/run/command_0', 'finish', 'SUCCESS', 'tar czf /tmp/logs.tgz /var/log/installer'],
    [179, 'subiquity/Error/run/run', 'finish', 'SUCCESS', ''],
    [179, 'subiquity/Error/run', 'finish', 'SUCCESS', ''],
  ];
}

const byName = (phases: Phase[], name: string) => phases.filter((p) => p.name === name);
const one = (phases: Phase[], name: string) => {
  const found = byName(phases, name);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const parentName = (phases: Phase[], p: Phase) => (p.parent === null ? null : phases[p.parent]!.name);

describe('derivePhases: a successful subiquity install', () => {
  for (const lateFirst of [true, false]) {
    describe(lateFirst ? '24.04.2+ (late-commands before Install/install finishes)' : '24.04 GA (late-commands after)', () => {
      const phases = derivePhases(stream(successfulInstall(lateFirst)));

      it('nests by name, not by time: events outside the install tree stay roots', () => {
        const roots = phases.filter((p) => p.parent === null).map((p) => p.name);
        expect(roots).toEqual([
          'subiquity/load_autoinstall_config',
          'subiquity/Early/run',
          INSTALL,
          'subiquity/Mirror/cmd-apt-config', // runs while Install/install is open, but is not part of it
          'subiquity/Late/run', // on 24.04.2+ also while Install/install is open
          'subiquity/Shutdown/copy_logs_to_target',
        ]);
        expect(parentName(phases, one(phases, 'subiquity/Late/run/command_0'))).toBe('subiquity/Late/run');
        expect(one(phases, INSTALL)).toMatchObject({ depth: 0, result: 'SUCCESS', durationSeconds: 900, description: null });
        expect(phases.filter((p) => p.parent === phases.indexOf(one(phases, INSTALL))).map((p) => p.label)).toEqual(['configure_apt', 'curtin_install', 'postinstall']);
      });

      it('labels the four run_curtin_step phases by their step and keeps each one’s curtin events under it', () => {
        const steps = byName(phases, STEP);
        expect(steps.map((p) => [p.label, p.depth, p.durationSeconds, p.result])).toEqual([
          ['run_curtin_step (initial)', 2, 22, 'SUCCESS'],
          ['run_curtin_step (partitioning)', 2, 22, 'SUCCESS'],
          ['run_curtin_step (extract)', 2, 22, 'SUCCESS'],
          ['run_curtin_step (curthooks)', 2, 22, 'SUCCESS'],
        ]);
        const stages = byName(phases, `${STEP}/cmd-install/stage-partitioning`);
        expect(stages).toHaveLength(1);
        const installs = byName(phases, `${STEP}/cmd-install`);
        expect(installs.map((p) => phases[p.parent!])).toEqual(steps);
        expect(phases[stages[0]!.parent!]).toBe(installs[1]);
        expect(stages[0]).toMatchObject({ label: 'stage-partitioning', depth: 4, durationSeconds: 19 });
      });

      it('closes curtin starts that never finish when an ancestor finishes, with the result unknown', () => {
        for (const [stage, command, at] of [['partitioning', 'block-meta', 150], ['extract', 'extract', 200], ['curthooks', 'curthooks', 400]] as const) {
          const builtin = `${STEP}/cmd-install/stage-${stage}/builtin`;
          expect(one(phases, `${builtin}/cmd-${command}`)).toMatchObject({ label: `cmd-${command}`, depth: 6, result: null, closedBy: builtin, durationSeconds: 18 });
          expect(one(phases, `${builtin}/cmd-${command}`).finishedAt).toEqual(new Date(T0 + (at + 20) * 1000));
        }
      });

      it('keeps a finish without a start, with no duration', () => {
        expect(one(phases, 'subiquity/load_autoinstall_config')).toMatchObject({ startedAt: null, durationSeconds: null, result: 'SUCCESS', description: 'loading autoinstall config', parent: null });
      });

      it('lists every phase after its parent, in time order among siblings', () => {
        phases.forEach((p, i) => {
          if (p.parent !== null) {
            expect(p.parent).toBeLessThan(i);
            expect(p.name.startsWith(`${phases[p.parent]!.name}/`)).toBe(true);
            expect(p.depth).toBe(phases[p.parent]!.depth + 1);
          } else expect(p.depth).toBe(0);
        });
        expect(phases).toHaveLength(successfulInstall(lateFirst).filter((s) => s[2] === 'start').length + 1);
      });
    });
  }
});

describe('derivePhases: quirks', () => {
  it('treats a name ending in / as the same context and pairs same-name siblings last-in-first-out', () => {
    const phases = derivePhases(
      stream([
        [0, 'a', 'start'],
        [1, 'a/cmd-install', 'start', null, 'first'],
        [2, 'a/cmd-install/', 'start', null, 'nested again'], // subiquity: a start for a name it already has open
        [3, 'a/cmd-install/', 'finish'],
        [4, 'a/cmd-install', 'finish'],
        [5, 'a/step', 'start', null, 'one'],
        [6, 'a/step', 'finish'],
        [6, 'a/step', 'start', null, 'two'],
        [8, 'a/step', 'finish'],
        [9, 'a', 'finish'],
      ]),
    );
    expect(phases.map((p) => [p.label, p.depth, p.description, p.durationSeconds])).toEqual([
      ['a', 0, null, 9],
      ['cmd-install', 1, 'first', 3],
      ['cmd-install', 1, 'nested again', 1],
      ['step', 1, 'one', 1],
      ['step', 1, 'two', 2],
    ]);
  });

  it('orders equal installer timestamps by receive time, whatever order the events are given in', () => {
    const events = stream([
      [10, 'x/part', 'start'],
      [10, 'x/part/a', 'start'],
      [10, 'x/part/a', 'finish'],
      [10, 'x/part', 'finish'],
      [10, 'x/part', 'start', null, 'second'],
      [10, 'x/part', 'finish', 'FAIL'],
    ]);
    const shuffled = [events[5]!, events[2]!, events[0]!, events[4]!, events[3]!, events[1]!];
    const phases = derivePhases(shuffled);
    expect(phases.map((p) => [p.label, p.depth, p.description, p.result])).toEqual([
      ['x/part', 0, null, 'SUCCESS'],
      ['a', 1, null, 'SUCCESS'],
      ['x/part', 0, 'second', 'FAIL'],
    ]);
  });

  it('puts a phase’s start before its own finish when installer and receive times are equal', () => {
    const t = new Date(T0);
    const e = (name: string, eventType: string): TimelineEvent => ({ name, eventType, result: eventType === 'finish' ? 'SUCCESS' : null, description: null, eventTime: t, receivedAt: t });
    const phases = derivePhases([e('q/a', 'finish'), e('q', 'start'), e('q/a', 'start'), e('q', 'finish')]);
    expect(phases.map((p) => [p.name, p.depth, p.durationSeconds, p.result, p.closedBy])).toEqual([
      ['q', 0, 0, 'SUCCESS', null],
      ['q/a', 1, 0, 'SUCCESS', null],
    ]);
  });

  it('keeps the start’s description and the finish’s when it differs; empty ones are null', () => {
    const phases = derivePhases(
      stream([
        [0, 'd/same', 'start', null, 'configuring storage'],
        [1, 'd/same', 'finish', 'SUCCESS', 'configuring storage'],
        [2, 'd/error', 'start', null, 'executing curtin install extract step'],
        [3, 'd/error', 'finish', 'FAIL', 'Command returned non-zero exit status 1.'],
        [4, 'd/empty', 'start', null, ''],
        [5, 'd/empty', 'finish', 'SUCCESS', '  '],
        [6, 'd/late', 'start', null, ''],
        [7, 'd/late', 'finish', 'WARN', 'FAILED to apply security updates'],
      ]),
    );
    expect(phases.map((p) => [p.name, p.description, p.finishDescription, p.result])).toEqual([
      ['d/same', 'configuring storage', null, 'SUCCESS'],
      ['d/error', 'executing curtin install extract step', 'Command returned non-zero exit status 1.', 'FAIL'],
      ['d/empty', null, null, 'SUCCESS'],
      ['d/late', 'FAILED to apply security updates', null, 'WARN'],
    ]);
  });

  it('closes only the open descendants that began inside the finishing phase; the rest stay open', () => {
    const phases = derivePhases(
      stream([
        [0, 'r/s', 'start', null, 'first'],
        [1, 'r/s/child', 'start', null, 'of the first'],
        [2, 'r/s', 'start', null, 'second'], // the first never finishes
        [3, 'r/s/child', 'start', null, 'of the second'],
        [4, 'r/s/child/deeper', 'start'],
        [5, 'r/s', 'finish'],
        [9, 'other', 'start'],
      ]),
    );
    expect(phases.map((p) => [p.name, p.description, p.depth, p.finishedAt && (p.finishedAt.getTime() - T0) / 1000, p.closedBy])).toEqual([
      ['r/s', 'first', 0, null, null],
      ['r/s/child', 'of the first', 1, null, null],
      ['r/s', 'second', 0, 5, null],
      ['r/s/child', 'of the second', 1, 5, 'r/s'],
      ['r/s/child/deeper', null, 2, 5, 'r/s'],
      ['other', null, 0, null, null],
    ]);
  });

  it('nests the children of a finish without start under it, and labels run_curtin_step from its curtin stage without a description', () => {
    const phases = derivePhases(
      stream([
        [0, 'subiquity/load_autoinstall_config/read', 'start'],
        [1, 'subiquity/load_autoinstall_config/read', 'finish'],
        [2, 'subiquity/load_autoinstall_config', 'finish'],
        [3, STEP, 'start', null, ''],
        [4, `${STEP}/cmd-install`, 'start'],
        [5, `${STEP}/cmd-install/stage-extract`, 'start'],
        [6, `${STEP}/cmd-install/stage-extract`, 'finish'],
      ]),
    );
    expect(phases.map((p) => [p.label, p.depth])).toEqual([
      ['subiquity/load_autoinstall_config', 0],
      ['read', 1],
      [`${STEP} (extract)`, 0],
      ['cmd-install', 1],
      ['stage-extract', 2],
    ]);
  });

  it('measures durations on the installer’s clock, not by receive time', () => {
    const events = stream([
      [0, 'c', 'start'],
      [95, 'c', 'finish'],
    ]);
    events[1]!.receivedAt = new Date(events[0]!.receivedAt!.getTime() + 1); // shipped in one burst
    expect(derivePhases(events)[0]).toMatchObject({ durationSeconds: 95 });
  });

  it('ignores events that are not starts or finishes', () => {
    expect(derivePhases(stream([[0, 'subiquity/Early/run', 'info']]))).toEqual([]);
  });
});

describe('derivePhases: a failure in curtin’s partitioning stage', () => {
  const phases = derivePhases(stream(partitioningFailure()));

  it('keeps the crash report and error-commands as their own roots, nested by name', () => {
    expect(phases.filter((p) => p.parent === null).map((p) => p.name)).toEqual([INSTALL, 'subiquity/ErrorReporter/1772359374.123.crash/add_info', 'subiquity/Error/run']);
    expect(phases.filter((p) => p.name.startsWith('subiquity/Error/')).map((p) => [p.label, p.depth])).toEqual([
      ['subiquity/Error/run', 0],
      ['run', 1],
      ['command_0', 2],
    ]);
  });

  it('gives each failing phase its result, and run_curtin_step the error as its finish description', () => {
    const step = byName(phases, STEP)[1]!;
    expect(step).toMatchObject({ label: 'run_curtin_step (partitioning)', result: 'FAIL', description: 'executing curtin install partitioning step' });
    expect(step.finishDescription).toMatch(/non-zero exit status 3/);
    expect(one(phases, INSTALL)).toMatchObject({ result: 'FAIL', durationSeconds: 169 });
    expect(one(phases, `${STEP}/cmd-install/stage-partitioning/builtin/cmd-block-meta`)).toMatchObject({ result: null, closedBy: `${STEP}/cmd-install/stage-partitioning/builtin` });
  });
});

describe('deriveFailure', () => {
  it('takes the deepest FAIL: its description is the reason, its name gives the stage', () => {
    expect(deriveFailure(stream(partitioningFailure()))).toEqual({
      stage: 'partitioning',
      reason: "running 'curtin block-meta'",
      eventName: `${STEP}/cmd-install/stage-partitioning/builtin`,
    });
  });

  it('takes the earliest of equally deep failures, by installer time then by receive time', () => {
    const events = stream([
      [5, `${CURTIN}/b`, 'finish', 'FAIL', 'second'],
      [5, `${CURTIN}/a`, 'finish', 'FAIL', 'first'],
      [3, `${INSTALL}/postinstall/install_foo`, 'finish', 'FAIL', 'earliest'],
    ]);
    [events[0]!.receivedAt, events[1]!.receivedAt] = [events[1]!.receivedAt, events[0]!.receivedAt];
    expect(deriveFailure(events)).toEqual({ stage: 'postinstall', reason: 'earliest', eventName: `${INSTALL}/postinstall/install_foo` });
    expect(deriveFailure(events.slice(0, 2))).toMatchObject({ reason: 'first' });
  });

  it('finds the stage of a failed run_curtin_step from its step when curtin’s own events are missing', () => {
    const events = stream([
      [0, INSTALL, 'start'],
      ...curtinStep(10, 'partitioning', null, null),
      ...curtinStep(40, 'extract', null, null, 'FAIL', 'Command returned non-zero exit status 1.'),
      [70, CURTIN, 'finish', 'FAIL', 'Command returned non-zero exit status 1.'],
    ]);
    expect(deriveFailure(events)).toEqual({ stage: 'extract', reason: 'curtin command install', eventName: `${STEP}/cmd-install` });
    const withoutCurtin = events.filter((e) => !e.name.includes('cmd-install'));
    expect(deriveFailure(withoutCurtin)).toEqual({ stage: 'extract', reason: 'Command returned non-zero exit status 1.', eventName: STEP });
  });

  it('maps early- and late-commands, and says nothing about a stage it cannot tell', () => {
    expect(deriveFailure(stream([[1, 'subiquity/Early/run/command_1', 'finish', 'FAIL', 'false']]))).toMatchObject({ stage: 'early_commands', reason: 'false' });
    expect(deriveFailure(stream([[1, 'subiquity/Late/run/command_0/', 'finish', 'FAIL', '']]))).toEqual({ stage: 'late_commands', reason: 'subiquity/Late/run/command_0', eventName: 'subiquity/Late/run/command_0' });
    expect(deriveFailure(stream([[1, INSTALL, 'finish', 'FAIL', 'install failed']]))).toEqual({ stage: null, reason: 'install failed', eventName: INSTALL });
  });

  it('is undefined without a FAIL finish (a WARN or a FAIL start is none)', () => {
    expect(deriveFailure(stream(successfulInstall(true)))).toBeUndefined();
    expect(deriveFailure(stream([[1, 'x', 'finish', 'WARN'], [2, 'y', 'start', 'FAIL']]))).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('formats durations', () => {
    expect([formatDuration(null), formatDuration(0.4), formatDuration(75), formatDuration(3725)]).toEqual(['-', '0s', '1m15s', '1h02m05s']);
  });
});
