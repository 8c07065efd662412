import { describe, expect, it } from '@jest/globals';
import { lockMessage } from './locks.js';
import { TaskRunner } from './task-runner.js';

const USER = 'anvil@pve!builder';
const runner = () => new TaskRunner('pve', { defaultDurationMs: 1, lockTimeoutMs: 20 });

describe('task runner: UPIDs, logs, locks and injected faults', () => {
  it('starts a task with a real UPID and ends it with TASK OK', async () => {
    const tasks = runner();
    const upid = tasks.start('qmcreate', '9000', USER, (log) => log('working'));
    expect(upid).toMatch(/^UPID:pve:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmcreate:9000:anvil@pve!builder:$/);
    expect(tasks.running().map((t) => t.upid)).toEqual([upid]);
    await tasks.idle();
    expect(tasks.tasks.get(upid)).toMatchObject({ status: 'stopped', exitstatus: 'OK', type: 'qmcreate', id: '9000', user: USER, log: ['working', 'TASK OK'] });
  });

  it('ends a failed task with TASK ERROR and runs its cleanup', async () => {
    const tasks = runner();
    let cleaned = false;
    const upid = tasks.start('qmclone', '100', USER, () => {
      throw new Error('disk full\n');
    }, { onFailure: () => (cleaned = true) });
    await tasks.idle();
    expect(tasks.tasks.get(upid)).toMatchObject({ exitstatus: 'disk full', log: ['TASK ERROR: disk full'] });
    expect(cleaned).toBe(true);
  });

  it('fails a task whose VM lock is held elsewhere with the lock timeout, and runs it once released', async () => {
    const tasks = runner();
    const release = tasks.locks.holdExternally(100);
    const blocked = tasks.start('qmconfig', '100', USER, () => undefined, { lockVmid: 100 });
    await tasks.idle();
    expect(tasks.tasks.get(blocked)!.exitstatus).toBe(lockMessage(100));
    release();
    const free = tasks.start('qmconfig', '100', USER, () => undefined, { lockVmid: 100 });
    await tasks.idle();
    expect(tasks.tasks.get(free)!.exitstatus).toBe('OK');
  });

  it('fails the next tasks of a type as told, and holds tasks of a type until released', async () => {
    const tasks = runner();
    tasks.fail('qmstart', { times: 1 });
    tasks.fail('download', { message: 'no space left' });
    const start = tasks.start('qmstart', '101', USER, () => undefined);
    const download = tasks.start('download', 'x.qcow2', USER, () => undefined);
    await tasks.idle();
    expect(tasks.tasks.get(start)!.exitstatus).toBe(lockMessage(101));
    expect(tasks.tasks.get(download)!.exitstatus).toBe('no space left');

    const release = tasks.hold('download');
    const held = tasks.start('download', 'y.qcow2', USER, () => undefined);
    const other = tasks.start('qmstop', '101', USER, () => undefined);
    await new Promise<void>((resolve) => {
      const poll = () => (tasks.tasks.get(other)!.status === 'stopped' ? resolve() : setTimeout(poll, 2));
      poll();
    });
    expect(tasks.tasks.get(held)!.status).toBe('running');
    release();
    await tasks.idle();
    expect(tasks.tasks.get(held)!.exitstatus).toBe('OK');
  });
});
