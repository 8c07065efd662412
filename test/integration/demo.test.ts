// The README's demo command, run as a user would (in check mode): a real API server with the CRDs, the operator and
// the boot-server as processes, and — where the PXE lab can run (root, QEMU, dnsmasq) — a QEMU VM that PXE-boots
// through anvil, installs and ends Provisioned, with its timeline read back from the install history.
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { embeddedTemplateEnv } from '../harness/pglite-template.js';
import { labMissing } from '../harness/pxe-lab.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

jest.setTimeout(600_000);

it('scripts/demo.ts --check brings up anvil and, with the lab, installs a VM end to end', () => {
  const root = join(HERE, '..', '..');
  const res = spawnSync(process.execPath, ['--conditions=anvil-source', '--import', 'tsx', join(root, 'scripts', 'demo.ts'), '--check'], {
    cwd: root,
    encoding: 'utf8',
    // Its boot-server starts from the cached embedded-database template, as test boot-servers do (initdb instead needs
    // about 1.1 GB and, on a busy 2-core machine, longer than the demo waits).
    env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn', ...embeddedTemplateEnv() },
    timeout: 580_000,
  });
  if (res.status !== 0) throw new Error(`demo failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  expect(res.stdout).toContain('anvil demo is running');
  // the dashboard it prints, signed in with the printed token command's ServiceAccount
  expect(res.stdout).toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+\/ {2}sign in with the token of: \S+ create token demo-viewer -n anvil-demo/);
  expect(res.stdout).toContain('[demo] dashboard: demo-viewer sees vm-01');
  if (labMissing() && !process.env.CI) {
    expect(res.stdout).toMatch(/vm-01\s+Provisioning\s+52:54:00:de:00:01\s+demo-installer/);
    return;
  }
  expect(res.stdout).toMatch(/vm-01\s+Provisioned\s+52:54:00:de:00:01\s+demo-installer/);
  expect(res.stdout).toMatch(/vm-01 is Provisioned, \d+ s after the VM started/);
  expect(res.stdout).toContain('BareMetalHost anvil-demo/vm-01: 1 installation');
  expect(res.stdout).toMatch(/attempt 1 {2}revision \d+ .* SUCCESS/);
  expect(res.stdout).toMatch(/Install\/install/);
});
