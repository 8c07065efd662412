import { describe, expect, it } from '@jest/globals';
import { pveReferenceAvailable } from './schema.js';
import { TEST_TOKEN, testSim } from './testing.js';

const maybe = pveReferenceAvailable() ? describe : describe.skip;

maybe('tasks resource: status and log', () => {
  it('serves a task status as PVE does, with exitstatus once stopped', async () => {
    const sim = testSim();
    const upid = sim.ctx.tasks.start('qmstart', '100', TEST_TOKEN, (log) => log('line'));
    const running = await sim.call('GET', `/nodes/pve/tasks/${upid}/status`);
    expect(running.data).toMatchObject({ upid, status: 'running', type: 'qmstart', id: '100', user: TEST_TOKEN });
    expect(running.data).not.toHaveProperty('exitstatus');
    await sim.ctx.tasks.idle();
    expect((await sim.call('GET', `/nodes/pve/tasks/${upid}/status`)).data).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
  });

  it('pages the log with start and limit and answers its total', async () => {
    const sim = testSim();
    const upid = sim.ctx.tasks.start('download', 'x', TEST_TOKEN, (log) => ['a', 'b', 'c'].forEach(log));
    await sim.ctx.tasks.idle();
    expect(await sim.call('GET', `/nodes/pve/tasks/${upid}/log`, { start: '1', limit: '2' })).toEqual({
      data: [{ n: 2, t: 'b' }, { n: 3, t: 'c' }],
      total: 4,
    });
    await expect(sim.call('GET', '/nodes/pve/tasks/UPID:pve:nope/status')).rejects.toMatchObject({ status: 500, message: 'no such task\n' });
  });

  it("needs Sys.Audit on the node to read another user's task", async () => {
    const sim = testSim();
    const other = 'other@pve!t';
    sim.ctx.access.addToken(other, 'x');
    const upid = sim.ctx.tasks.start('qmstop', '100', TEST_TOKEN, () => undefined);
    await sim.ctx.tasks.idle();
    await expect(sim.call('GET', `/nodes/pve/tasks/${upid}/status`, {}, other)).resolves.toBeDefined();
    sim.ctx.access.deny(other, '/nodes', 'Sys.Audit');
    await expect(sim.call('GET', `/nodes/pve/tasks/${upid}/log`, {}, other)).rejects.toMatchObject({
      status: 403,
      message: 'Permission check failed (/nodes/pve, Sys.Audit)\n',
    });
  });
});
