import { installerEventsPatch, type InstallationMemory, type ReceivedEvent } from './host-status-updates.js';

const at = new Date('2026-01-01T00:00:00Z');
const ev = (name: string, event_type: string, timestamp: number, result?: string, description?: string): ReceivedEvent => ({
  event: { name, event_type, timestamp, ...(result ? { result } : {}), ...(description ? { description } : {}) },
  receivedAt: at,
});
const valueAt = (ops: { path: string; value?: unknown }[], suffix: string): unknown => ops.find((o) => o.path.endsWith(suffix))?.value;
const BLOCK_META = 'subiquity/Install/install/curtin_install/cmd-install/stage-partitioning/builtin/cmd-block-meta';

describe('installer events as host status patches', () => {
  it('a nested FAIL marks the install failing, the top-level finish decides, the deepest failure explains', () => {
    let memory: InstallationMemory = {};
    const first = installerEventsPatch('id', [ev('subiquity/Install/install', 'start', 1), ev(BLOCK_META, 'finish', 2, 'FAIL', 'wipefs: /dev/sda busy')], memory);
    memory = first.memory;
    expect(valueAt(first.ops, '/result')).toBeUndefined();
    expect(valueAt(first.ops, '/failure')).toEqual({ stage: 'partitioning', reason: 'wipefs: /dev/sda busy', event: BLOCK_META });
    expect(valueAt(first.ops, '/progress')).toBe('failing (partitioning)');

    // Later, shallower FAILs (the failure propagating outward) and the verdict, in another batch.
    const second = installerEventsPatch('id', [ev('subiquity/Install/install/curtin_install', 'finish', 3, 'FAIL', 'curtin failed'), ev('subiquity/Install/install', 'finish', 4, 'FAIL', 'install failed')], memory);
    expect(valueAt(second.ops, '/failure')).toBeUndefined(); // unchanged: still the deeper one
    expect(second.memory.failure?.reason).toBe('wipefs: /dev/sda busy');
    expect(valueAt(second.ops, '/result')).toBe('FAIL');
    expect(valueAt(second.ops, '/finishedAt')).toBe(new Date(4000).toISOString());
    expect(valueAt(second.ops, '/phase')).toBe('partitioning');

    // After the verdict: recorded as lastEvent only.
    const late = installerEventsPatch('id', [ev('subiquity/ErrorReporter/1/add_info', 'finish', 5, 'FAIL', 'crash report'), ev('subiquity/Install/install/late', 'start', 6)], second.memory);
    expect(late.ops.map((o) => o.path)).toEqual(['/status/currentInstall/installationId', '/status/currentInstall/lastEvent']);
  });

  it('a top-level FAIL with nothing nested failing is its own reason; events flagged after the verdict change nothing', () => {
    const { ops } = installerEventsPatch('id', [ev('subiquity/Install/install', 'finish', 4, 'FAIL', 'install failed')]);
    expect(valueAt(ops, '/failure')).toMatchObject({ reason: 'install failed', stage: 'unknown' });
    const after = installerEventsPatch('id', [{ ...ev('subiquity/Install/install', 'finish', 4, 'SUCCESS'), afterVerdict: true }]);
    expect(valueAt(after.ops, '/result')).toBeUndefined();
  });

  it('success: phase complete, and the verdict is taken once', () => {
    const { ops, memory } = installerEventsPatch('id', [ev('subiquity/Install/install/run_late_commands', 'start', 1), ev('subiquity/Install/install', 'finish', 2, 'SUCCESS')]);
    expect(valueAt(ops, '/result')).toBe('SUCCESS');
    expect(valueAt(ops, '/phase')).toBe('complete');
    const again = installerEventsPatch('id', [ev('subiquity/Install/install', 'finish', 3, 'FAIL')], memory);
    expect(valueAt(again.ops, '/result')).toBeUndefined();
  });
});
