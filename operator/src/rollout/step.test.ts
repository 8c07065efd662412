// The rollout state machine against fixture hosts: each test plays the controller's part (apply the actions, move the
// hosts, step again) with a clock it sets.
import { describe, expect, it } from '@jest/globals';
import { gateVerdict } from './gate.js';
import { PHASE_HANDLERS, step } from './step.js';
import { ROLLOUT_PHASES, type HostView, type RolloutPolicy, type RolloutSnapshot, type RolloutStatus, type StepOutcome } from './types.js';

const policy: RolloutPolicy = { batchSize: 2, pauseSeconds: 600, windows: [], failureThreshold: 1, healthTimeoutSeconds: 1800, maxRollbacks: 2, rollbackWindowSeconds: 86_400 };
const T0 = Date.parse('2026-12-07T21:00:00Z');
const at = (minutes: number): Date => new Date(T0 + minutes * 60_000);

class Fleet {
  hosts: HostView[];
  status: RolloutStatus | undefined;
  log: string[] = [];
  constructor(n: number, revision: string) {
    this.hosts = Array.from({ length: n }, (_, i) => ({ key: `default/node-${i + 1}`, revision, install: 'installed' as const, health: 'passed' as const }));
  }
  step(now: Date, desiredRevision: string, opts: { changes?: ('post-install' | 'storage')[]; approvedRevision?: string; policy?: Partial<RolloutPolicy> } = {}): StepOutcome {
    const snap: RolloutSnapshot = {
      now,
      policy: { ...policy, ...opts.policy },
      desiredRevision,
      gate: gateVerdict({ revision: desiredRevision, changes: opts.changes ?? ['post-install'], ...(opts.approvedRevision ? { approvedRevision: opts.approvedRevision } : {}) }),
      hosts: this.hosts,
    };
    const out = step(snap, this.status);
    this.status = out.status;
    for (const a of out.actions) {
      if (a.kind === 'install') this.set(a.host, { revision: a.revision, install: 'installing', health: 'pending', installStartedAt: now.toISOString() });
    }
    this.log.push(...out.audit.map((r) => r.type));
    return out;
  }
  set(key: string, patch: Partial<HostView>): void {
    this.hosts = this.hosts.map((h) => (h.key === key ? { ...h, ...patch } : h));
  }
  finish(keys: number[], outcome: 'healthy' | 'unhealthy' | 'install-failed'): void {
    for (const i of keys) {
      this.set(`default/node-${i}`, outcome === 'install-failed' ? { install: 'failed', health: 'pending' } : { install: 'installed', health: outcome === 'healthy' ? 'passed' : 'failed' });
    }
  }
  installing = (): string[] => this.hosts.filter((h) => h.install === 'installing').map((h) => `${h.key}@${h.revision}`);
}

describe('the rollout state machine', () => {
  it('has a handler for every phase', () => {
    expect(Object.keys(PHASE_HANDLERS).sort()).toEqual([...ROLLOUT_PHASES].sort());
  });

  it('rolls a change out to 4 hosts in 2 waves with a pause between them', () => {
    const fleet = new Fleet(4, 'r1');
    const first = fleet.step(at(0), 'r2');
    expect(first.status).toMatchObject({ phase: 'Rolling', targetRevision: 'r2', previousRevision: 'r1', wave: 0, waves: [['default/node-1', 'default/node-2'], ['default/node-3', 'default/node-4']] });
    expect(fleet.installing()).toEqual(['default/node-1@r2', 'default/node-2@r2']);

    expect(fleet.step(at(5), 'r2').status.phase).toBe('Rolling');
    fleet.finish([1, 2], 'healthy');
    const pause = fleet.step(at(20), 'r2');
    expect(pause.status).toMatchObject({ phase: 'Paused', pauseUntil: at(30).toISOString() });
    expect(pause.requeueAfterMs).toBe(600_000);
    expect(fleet.step(at(29), 'r2').status.phase).toBe('Paused');
    expect(fleet.installing()).toEqual([]);

    expect(fleet.step(at(30), 'r2').status).toMatchObject({ phase: 'Rolling', wave: 1 });
    expect(fleet.installing()).toEqual(['default/node-3@r2', 'default/node-4@r2']);
    fleet.finish([3, 4], 'healthy');
    expect(fleet.step(at(50), 'r2').status).toMatchObject({ phase: 'Completed', failedHosts: [] });
    expect(fleet.log).toEqual(['GateVerdict', 'WaveStarted', 'WaveVerified', 'WaveStarted', 'WaveVerified', 'RolloutCompleted']);
    expect(fleet.step(at(60), 'r2').actions).toEqual([]);
  });

  it('starts waves only inside a maintenance window', () => {
    const fleet = new Fleet(2, 'r1');
    const windows = [{ schedule: '0 22 * * *', durationMinutes: 60 }];
    const waiting = fleet.step(at(-120), 'r2', { policy: { windows } });
    expect(waiting.status).toMatchObject({ phase: 'AwaitingWindow', message: 'wave 1 of 1 waits for the maintenance window at 2026-12-07T22:00:00.000Z' });
    expect(waiting.requeueAfterMs).toBe(180 * 60_000);
    expect(fleet.installing()).toEqual([]);
    expect(fleet.step(at(60), 'r2', { policy: { windows } }).status.phase).toBe('Rolling');
    expect(fleet.installing()).toHaveLength(2);
  });

  it('halts when a wave fails, rolls the failed host back to the previous revision, which installs fine', () => {
    const fleet = new Fleet(4, 'r1');
    fleet.step(at(0), 'r2');
    fleet.finish([1], 'healthy');
    fleet.finish([2], 'install-failed');
    const halted = fleet.step(at(10), 'r2');
    expect(halted.status).toMatchObject({ phase: 'RollingBack', failedHosts: ['default/node-2'] });
    expect(halted.actions).toEqual([{ kind: 'install', host: 'default/node-2', revision: 'r1' }]);
    expect(fleet.log).toEqual(['GateVerdict', 'WaveStarted', 'RolloutHalted', 'RollbackStarted']);

    fleet.finish([2], 'healthy');
    expect(fleet.step(at(30), 'r2').status).toMatchObject({ phase: 'RolledBack' });
    // the second wave never started, and nothing happens until the template changes
    expect(fleet.hosts.map((h) => h.revision)).toEqual(['r2', 'r1', 'r1', 'r1']);
    expect(fleet.step(at(90), 'r2').actions).toEqual([]);

    // a fixed template: a new rollout of r3 to every host not on it
    const fixed = fleet.step(at(100), 'r3');
    expect(fixed.status).toMatchObject({ phase: 'Rolling', targetRevision: 'r3', wave: 0 });
    expect(fleet.installing()).toEqual(['default/node-1@r3', 'default/node-2@r3']);
  });

  it('counts a host that gives no health verdict in time as failed', () => {
    const fleet = new Fleet(2, 'r1');
    fleet.step(at(0), 'r2');
    fleet.finish([1], 'healthy');
    expect(fleet.step(at(29), 'r2').status.phase).toBe('Rolling');
    expect(fleet.step(at(31), 'r2').status).toMatchObject({ phase: 'RollingBack', failedHosts: ['default/node-2'] });
  });

  it('stops rolling back a host that keeps failing, with an alert (loop prevention)', () => {
    const fleet = new Fleet(1, 'r1');
    fleet.step(at(0), 'r2');
    fleet.finish([1], 'unhealthy');
    expect(fleet.step(at(10), 'r2').status.phase).toBe('RollingBack');
    fleet.finish([1], 'install-failed');
    const again = fleet.step(at(40), 'r2');
    expect(again.status.phase).toBe('RollingBack');
    expect(again.actions).toEqual([{ kind: 'install', host: 'default/node-1', revision: 'r1' }]);
    fleet.finish([1], 'install-failed');
    const stopped = fleet.step(at(80), 'r2');
    expect(stopped.status.phase).toBe('RollbackFailed');
    expect(stopped.actions).toEqual([{ kind: 'alert', reason: 'RollbackFailed', message: 'rollback stopped for default/node-1: rolled back 2 time(s) within 86400 s; a person must look' }]);
    expect(fleet.step(at(200), 'r2').actions).toEqual([]);
  });

  it('waits for approval of a change above the automatic classes, then rolls it out', () => {
    const fleet = new Fleet(2, 'r1');
    const waiting = fleet.step(at(0), 'r2', { changes: ['storage'] });
    expect(waiting.status).toMatchObject({ phase: 'AwaitingApproval', message: 'a storage change (automatic up to packages) needs approval of revision r2' });
    expect(fleet.step(at(5), 'r2', { changes: ['storage'], approvedRevision: 'r1' }).status.phase).toBe('AwaitingApproval');
    expect(fleet.installing()).toEqual([]);
    expect(fleet.step(at(10), 'r2', { changes: ['storage'], approvedRevision: 'r2' }).status.phase).toBe('Rolling');
    expect(fleet.installing()).toHaveLength(2);
  });

  it('goes on below the failure threshold, recording the failed host', () => {
    const fleet = new Fleet(2, 'r1');
    fleet.step(at(0), 'r2', { policy: { failureThreshold: 2 } });
    fleet.finish([1], 'healthy');
    fleet.finish([2], 'unhealthy');
    expect(fleet.step(at(10), 'r2', { policy: { failureThreshold: 2 } }).status).toMatchObject({ phase: 'Completed', failedHosts: ['default/node-2'] });
  });

  it('stays idle when every host runs the desired revision', () => {
    const fleet = new Fleet(2, 'r1');
    expect(fleet.step(at(0), 'r1')).toEqual({ status: expect.objectContaining({ phase: 'Idle', message: 'every host runs revision r1' }), actions: [], audit: [] });
  });
});
