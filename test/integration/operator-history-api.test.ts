// With --database-url the operator process migrates the history database and serves the history API on its metrics port.
import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { startPostgres, type RunningPostgres } from '../harness/postgres.js';
import { ROOT } from '../harness/processes.js';

jest.setTimeout(120_000);

let cp: ControlPlane;
let pgServer: RunningPostgres;

beforeAll(async () => {
  [cp, pgServer] = await Promise.all([startControlPlane(), startPostgres()]);
});
afterAll(async () => {
  await cp?.stop();
  await pgServer?.stop();
});

it('serves /api/v1 from the operator when a database URL is given', async () => {
  const databaseUrl = await pgServer.createDatabase('anvil_operator');
  const port = await freePort();
  const child = spawn(process.execPath, ['--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'operator', 'src', 'main.ts'), '--kubeconfig', cp.kubeconfigPath, '--metrics-host', '127.0.0.1', '--metrics-port', String(port), '--leader-elect', 'false', '--database-url', databaseUrl], {
    stdio: 'ignore',
    env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn' },
  });
  try {
    let doc: { openapi?: string; paths?: Record<string, unknown> } | undefined;
    for (let i = 0; i < 150 && !doc; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/openapi.json`);
        if (res.ok) doc = (await res.json()) as typeof doc;
      } catch {
        // not up yet
      }
      if (!doc) await sleep(200);
    }
    expect(doc?.openapi).toMatch(/^3\./);
    const list = await fetch(`http://127.0.0.1:${port}/api/v1/hosts/default/nobody/installations`);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { items: unknown[] }).items).toEqual([]);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});
