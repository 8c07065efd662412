import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const anvil = (...args: string[]) => spawnSync(join(root, 'scripts', 'anvil'), args, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });

describe('anvil validate (offline)', () => {
  it('accepts valid templates and explains invalid ones with the line', () => {
    const ok = anvil('validate', join(root, 'examples', 'quickstart', 'autoinstalltemplate.yaml'));
    expect(ok.stdout).toContain('valid   ubuntu-2404');
    expect(ok.status).toBe(0);

    const dir = mkdtempSync(join(tmpdir(), 'anvil-cli-'));
    let bad: ReturnType<typeof anvil>;
    try {
      const file = join(dir, 't.yaml');
      writeFileSync(
        file,
        ['apiVersion: anvil.dev/v1alpha1', 'kind: AutoinstallTemplate', 'metadata: {name: base}', 'spec:', '  userData: |', '    #cloud-config', '    autoinstall:', '      version: 1', '      a: {{ }}', '---',
          'apiVersion: anvil.dev/v1alpha1', 'kind: AutoinstallTemplate', 'metadata: {name: overlay}', 'spec: {extends: missing-base}'].join('\n'),
      );
      bad = anvil('validate', file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/INVALID base\n.*line 4/);
    expect(bad.stdout).toMatch(/INVALID overlay\n.*"missing-base".*not found/);
  });

  it('explains usage errors', () => {
    const r = anvil('frobnicate', '--kubeconfig', '/nonexistent');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^anvil: unknown command "frobnicate"/);
    expect(anvil('validate')).toMatchObject({ status: 2, stderr: expect.stringContaining('validate needs a FILE') });
  });
});
