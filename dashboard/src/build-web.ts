// Bundles the browser app (src/web) with esbuild into dist/web: content-hashed file names (served as immutable) and
// manifest.json naming the entry script and stylesheet for the page. Nothing from a CDN: preact and htm are in the
// bundle. Run by Node itself (type stripping: erasable TypeScript, no relative imports) from `npm run build`, and
// by the tests into a directory of their own.
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

export async function buildWeb(outDir: string = join(packageDir, 'dist', 'web')): Promise<{ script: string; stylesheet?: string }> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: packageDir,
    entryPoints: { main: 'src/web/main.ts' },
    outdir: outDir,
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome109', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs);
  const entry = outputs.find(([, o]) => o.entryPoint === 'src/web/main.ts');
  if (!entry) throw new Error('esbuild produced no entry script for src/web/main.ts');
  const manifest = { script: basename(entry[0]), ...(entry[1].cssBundle ? { stylesheet: basename(entry[1].cssBundle) } : {}) };
  writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
  return manifest;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const manifest = await buildWeb(process.argv[2]);
  console.log(`dashboard app built: ${manifest.script}${manifest.stylesheet ? `, ${manifest.stylesheet}` : ''}`);
}
