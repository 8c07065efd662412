// The README's demo command, run as a user would (in check mode): the operator process starts against a real
// API server with the CRDs and quickstart examples installed, wins leader election and reports ready.
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

jest.setTimeout(120_000);

it('scripts/demo.ts --check brings up the API server, CRDs, examples and a ready operator', () => {
  const root = join(HERE, '..', '..');
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'demo.ts'), '--check'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn' },
    timeout: 110_000,
  });
  if (res.status !== 0) throw new Error(`demo failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  expect(res.stdout).toContain('node-01');
  expect(res.stdout).toContain('ubuntu-2404');
  expect(res.stdout).toContain('anvil demo is running');
  expect(res.stdout).toMatch(/node-01\s+Provisioning\s+52:54:00:12:34:01\s+ubuntu-2404/);
  expect(res.stdout).toContain('node-01-bootconfig');
});
