// The benchmarks run: `bench/run.ts --quick` for the ones that finish in about two minutes on 2 cores, each must
// produce its table with real numbers for anvil and for every anchor. Never a timing assertion: only that something
// was measured. Skipped (outside CI) with the reason when an anchor is missing; scripts/setup.sh installs them.
import { jest } from '@jest/globals';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunReport } from '../../bench/run.js';
import { controlPlaneMissing } from '../harness/control-plane.js';
import { ROOT } from '../harness/processes.js';

jest.setTimeout(600_000);

const BENCHMARKS = ['tftp-throughput', 'http', 'webhook'];

function anchorsMissing(): string | undefined {
  for (const bin of ['wrk', 'atftp', 'dnsmasq']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} not found: run 'bash scripts/setup.sh'`;
    }
  }
  const check = spawnSync('bash', [join(ROOT, 'bench', 'setup-anchors.sh'), '--check'], { encoding: 'utf8' });
  if (check.status !== 0) return check.stderr.trim() || 'bench/setup-anchors.sh --check failed';
  return controlPlaneMissing();
}

const missing = anchorsMissing();

(missing && !process.env.CI ? describe.skip : describe)(`benchmarks, quick mode${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it(`${BENCHMARKS.join(', ')} each measure anvil and every anchor`, () => {
    if (missing) throw new Error(missing);
    const outDir = mkdtempSync(join(tmpdir(), 'anvil-bench-test-'));
    const out = join(outDir, 'run.json');
    let run: SpawnSyncReturns<string>;
    let report: RunReport;
    try {
      run = spawnSync(process.execPath, ['--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'bench', 'run.ts'), '--quick', '--only', BENCHMARKS.join(','), '--out', out], {
        cwd: ROOT,
        encoding: 'utf8',
        // No quiet references: a CI machine is never quiet, and a check against references recorded on it would only
        // measure the disturbed benchmarks twice (bench/lib/anchor-references.ts has its own tests).
        env: { ...process.env, NODE_OPTIONS: '', ANVIL_BENCH_REFERENCES: join(outDir, 'no-references.json') },
        timeout: 540_000,
      });
      if (!existsSync(out)) throw new Error(`bench/run.ts wrote no results (exit ${run.status}, ${run.signal ?? 'no signal'}):\n${run.stderr.slice(-3000)}`);
      report = JSON.parse(readFileSync(out, 'utf8')) as RunReport;
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
    expect({ failures: report.failures, stderr: report.failures.length ? run.stderr.slice(-3000) : '' }).toEqual({ failures: [], stderr: '' });
    expect(run.status).toBe(0);
    expect(report.benchmarks.map((b) => b.name)).toEqual(BENCHMARKS);
    for (const b of report.benchmarks) {
      expect(b.rows.length).toBeGreaterThan(0);
      expect(b.anchorNames.length).toBeGreaterThan(0);
      for (const row of b.rows) {
        const where = `${b.name}: ${row.setting}, ${row.metric}`;
        expect({ where, anvil: row.anvil! > 0 }).toEqual({ where, anvil: true });
        // An anchor may lack a metric by design (null: e.g. it has no database); a number it has must be real.
        for (const [name, v] of Object.entries(row.anchors)) if (v !== null) expect({ where, name, positive: v > 0 }).toEqual({ where, name, positive: true });
      }
      // Every anchor was measured somewhere in the table.
      for (const name of b.anchorNames) expect({ bench: b.name, name, measured: b.rows.some((r) => (r.anchors[name] ?? 0) > 0) }).toEqual({ bench: b.name, name, measured: true });
      expect(run.stdout).toContain(b.title);
    }
  });
});
