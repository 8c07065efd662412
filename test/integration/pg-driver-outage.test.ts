// The pg driver when its connections die under it (real PostgreSQL): a backend terminated by its own statement,
// terminated between two statements of a transaction, terminated mid-statement, and the whole server killed (kill -9,
// and an immediate shutdown) while a transaction holds a connection. Every such transaction rejects, the process
// using the driver stays alive (an unhandled 'error' event on a pg Client would kill it), and the same driver works
// again once the server is back. The client runs as its own process: dying is the failure being tested.
// And a process that starts while the database is down opens its history store anyway and migrates once it is up.
import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { openHistoryStore } from '@anvil/core/db';
import { startPostgres, type RunningPostgres } from '../harness/postgres.js';
import { ROOT } from '../harness/processes.js';

jest.setTimeout(180_000);

interface Step {
  step: string;
  rejected?: string;
  for?: string;
}

/** Runs test/fixtures/pg-outage-client.ts, killing the server with `kill` when it asks and restarting it after. */
async function runClient(pgServer: RunningPostgres, url: string, kill: () => Promise<void>): Promise<{ code: number | null; steps: Step[]; output: string }> {
  const child = spawn(process.execPath, ['--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'test', 'fixtures', 'pg-outage-client.ts'), url], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const steps: Step[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      const step = JSON.parse(line) as Step;
      steps.push(step);
      if (step.step !== 'waiting') continue;
      if (step.for === 'server killed') await kill();
      else await pgServer.resume();
      child.stdin.write('go\n');
    }
    return { code: await exited, steps, output: stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    if (!pgServer.running) await pgServer.resume();
  }
}

describe('pg driver: connections lost mid-transaction', () => {
  let pgServer: RunningPostgres;
  let url: string;

  beforeAll(async () => {
    pgServer = await startPostgres({ durableCommits: true });
    url = await pgServer.createDatabase(`anvil_pgdrv_${process.pid}`);
  });

  afterAll(async () => {
    await pgServer?.stop();
  });

  it.each([
    ['kill -9 of the server', () => pgServer.crash()],
    ['an immediate shutdown', () => pgServer.stopImmediate()],
  ])('rejects the transactions, never crashes, and recovers (server lost by %s)', async (_how, kill) => {
    const { code, steps, output } = await runClient(pgServer, url, kill);
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
    expect(steps.filter((s) => s.step !== 'waiting').map((s) => s.step)).toEqual([
      'terminated-by-own-statement',
      'after-own-termination',
      'terminated-between-statements',
      'after-termination',
      'terminated-mid-statement',
      'after-mid-statement-termination',
      'server-killed-mid-transaction',
      'while-down',
      'after-restart',
      'done',
    ]);
    for (const s of steps.filter((x) => x.step.startsWith('terminated') || x.step === 'server-killed-mid-transaction' || x.step === 'while-down')) {
      expect(s.rejected).toBeTruthy();
    }
  });

  it('opens the history store while the database is down, and migrates it once it answers', async () => {
    const fresh = await pgServer.createDatabase(`anvil_pgdown_${process.pid}`);
    await pgServer.crash();
    try {
      const store = await openHistoryStore({ databaseUrl: fresh, dataDir: '', connectTimeoutMs: 2000 });
      try {
        const id = randomUUID();
        await expect(store.getInstallation(id)).rejects.toThrow();
        await pgServer.resume();
        // The first call after the outage applies the migrations, then runs.
        expect(await store.getInstallation(id)).toBeUndefined();
        await store.recordInstallStarted({ installationId: id, host: { namespace: 'ns', name: 'h', uid: randomUUID() }, mac: '52:54:00:00:00:01', revision: 1, attempt: 1, startedAt: new Date().toISOString() });
        expect(await store.getInstallation(id)).toMatchObject({ host: { namespace: 'ns', name: 'h' } });
      } finally {
        await store.close();
      }
    } finally {
      if (!pgServer.running) await pgServer.resume();
    }
  });
});
