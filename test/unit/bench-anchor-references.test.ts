// Honest anchors (bench/lib/anchor-references.ts): an anchor that ran far below its quiet reference on this machine is
// marked, and its row gets no ratio; references come only from benchmarks that started on a quiet machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cellKey, loadReferences, machineBusy, markDisturbed, recordReferences, saveReferences, type AnchorReferences } from '../../bench/lib/anchor-references.js';
import { ratio, table, type BenchmarkResult } from '../../bench/lib/results.js';

const MACHINE = '2 x Test CPU, 24 GiB';

function result(nginx: number, p99: number): BenchmarkResult {
  return {
    name: 'http',
    title: 'HTTP',
    anchorNames: ['nginx'],
    rows: [
      { setting: '/boot.ipxe', metric: 'requests/s', unit: 'req/s', better: 'higher', anvil: 40_000, anchors: { nginx } },
      { setting: '/boot.ipxe', metric: 'p99 latency', unit: 'ms', better: 'lower', anvil: 4, anchors: { nginx: p99 } },
      { setting: 'asset', metric: 'throughput', unit: 'MB/s', better: 'higher', anvil: 500, anchors: { nginx: null } },
    ],
    commands: [],
    notes: [],
    load: { before: 0.2, after: 0.2 },
    seconds: 1,
  };
}

describe('anchor references', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'anvil-bench-refs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const quietRefs = (): AnchorReferences => {
    const refs: AnchorReferences = { machine: MACHINE, mode: 'full', cells: {} };
    expect(recordReferences(refs, result(100_000, 2), 0.05, 't0')).toBe(2);
    return refs;
  };

  it('measures how busy the machine is', async () => {
    const busy = await machineBusy(200);
    expect(busy).toBeGreaterThanOrEqual(0);
    expect(busy).toBeLessThanOrEqual(1);
  });

  it('records the anchors of a quiet run only, and keeps them per machine and mode', () => {
    const refs = quietRefs();
    expect(refs.cells[cellKey('http', { setting: '/boot.ipxe', metric: 'requests/s' }, 'nginx')]).toEqual({ value: 100_000, busy: 0.05, recordedAt: 't0' });
    // a machine with half its CPU busy before the benchmark is not quiet
    expect(recordReferences(refs, result(50_000, 9), 0.5, 't1')).toBe(0);
    const path = join(dir, 'refs.json');
    saveReferences(path, refs);
    expect(loadReferences(path, MACHINE, 'full').cells).toEqual(refs.cells);
    expect(loadReferences(path, '4 x Other CPU, 8 GiB', 'full').cells).toEqual({});
    expect(loadReferences(path, MACHINE, 'quick').cells).toEqual({});
    expect(loadReferences(join(dir, 'none.json'), MACHINE, 'full').cells).toEqual({});
  });

  it('gives a row whose anchor ran below 60% of its reference no ratio, and says so in the table', () => {
    const refs = quietRefs();
    const loaded = result(45_000, 2.2);
    expect(markDisturbed(loaded, refs)).toBe(1);
    const [rps, p99] = loaded.rows;
    expect(rps!.disturbed).toEqual({ nginx: { value: 45_000, reference: 100_000, fraction: 0.45 } });
    expect(ratio(rps!)).toBeNull();
    // 2.2 ms against a quiet 2 ms is 91%: not disturbed, so a ratio
    expect(p99!.disturbed).toBeUndefined();
    expect(ratio(p99!)).toBeCloseTo(4 / 2.2);
    const text = table(loaded);
    expect(text).toContain('| /boot.ipxe | requests/s (req/s, higher is better) | 40,000 | 45,000 (disturbed: 45% of its quiet 100,000) | n/a: anchor disturbed |');
    expect(text).toContain('| 1.82x |');
  });

  it('takes a lower-is-better anchor as disturbed when it is slower than its reference by the same fraction', () => {
    const refs = quietRefs();
    const slow = result(100_000, 5);
    expect(markDisturbed(slow, refs)).toBe(1);
    expect(slow.rows[1]!.disturbed).toEqual({ nginx: { value: 5, reference: 2, fraction: 0.4 } });
  });

  it('clears the marks of a new measurement that is no longer disturbed, and has nothing to check without references', () => {
    const refs = quietRefs();
    const r = result(45_000, 2);
    expect(markDisturbed(r, refs)).toBe(1);
    r.rows[0]!.anchors.nginx = 95_000;
    expect(markDisturbed(r, refs)).toBe(0);
    expect(r.rows[0]!.disturbed).toBeUndefined();
    expect(markDisturbed(result(1, 1000), { machine: MACHINE, mode: 'full', cells: {} })).toBe(0);
  });
});
