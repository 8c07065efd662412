// The chart ships anvil's CRDs in charts/anvil/crds/; they must be the generated files in crds/, byte for byte.
// (crds.test.ts keeps crds/ in sync with the TypeScript; this keeps the chart in sync with crds/.)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOP = join(ROOT, 'crds');
const CHART = join(ROOT, 'charts', 'anvil', 'crds');
const FIX = 'run `cp crds/*.yaml charts/anvil/crds/` (after `npm run gen:crds`) and commit the result';

const yamlIn = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();

describe('charts/anvil/crds mirrors crds/', () => {
  it('holds the same files', () => {
    const top = yamlIn(TOP);
    const chart = yamlIn(CHART);
    const missing = top.filter((f) => !chart.includes(f));
    const extra = chart.filter((f) => !top.includes(f));
    if (missing.length || extra.length) {
      throw new Error(
        [missing.length ? `missing from charts/anvil/crds: ${missing.join(', ')}` : '', extra.length ? `not in crds/: ${extra.join(', ')}` : '', FIX].filter(Boolean).join('; '),
      );
    }
    expect(top.length).toBeGreaterThan(0);
  });

  it.each(yamlIn(TOP))('charts/anvil/crds/%s is byte-identical to crds/', (file) => {
    const want = readFileSync(join(TOP, file));
    let got: Buffer;
    try {
      got = readFileSync(join(CHART, file));
    } catch {
      throw new Error(`charts/anvil/crds/${file} is missing: ${FIX}`);
    }
    if (!got.equals(want)) throw new Error(`charts/anvil/crds/${file} differs from crds/${file}: ${FIX}`);
  });
});
