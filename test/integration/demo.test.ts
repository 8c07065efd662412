// The README's demo command, run as a user would (in check mode): a real API server with the CRDs, the operator and
// the boot-server as processes, and — where the PXE lab can run (root, QEMU, dnsmasq) — a QEMU VM that PXE-boots
// through anvil, installs and ends Provisioned, with its timeline read back from the install history.
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labMissing } from '../harness/pxe-lab.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

jest.setTimeout(600_000);

it('scripts/demo.ts --check brings up anvil and, with the lab, installs a VM end to end', () => {
  const root = join(HERE, '..', '..');
  const res = spawnSync(process.execPath, ['--conditions=anvil-source', '--import', 'tsx', join(root, 'scripts', 'demo.ts'), '--check'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn' },
    timeout: 580_000,
  });
  if (res.status !== 0) throw new Error(`demo failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  expect(res.stdout).toContain('anvil demo is running');
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
