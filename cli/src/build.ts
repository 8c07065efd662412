// `npm run build:cli`: bundles the CLI with esbuild into dist/cli/anvil.js (the `anvil` and `kubectl-anvil` bins),
// with each command and the renderer in chunks loaded only when used, and the render worker the renderer spawns
// (dist/cli/render-worker.js, next to the chunk that starts it). Run by Node itself (type stripping): erasable
// TypeScript and no relative imports. Safe to run while the CLI runs and twice at once: files are built elsewhere
// and renamed into place, the entry last, and chunks of earlier builds are kept an hour for processes still using them.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outdir = join(root, 'dist', 'cli');
const STALE_CHUNK_MS = 3_600_000;

export async function buildCli(): Promise<string> {
  const started = new Date();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  mkdirSync(outdir, { recursive: true });
  const tmp = mkdtempSync(join(root, 'dist', '.cli-build-'));
  try {
    await build({
      absWorkingDir: root,
      entryPoints: { anvil: 'cli/src/main.ts', 'render-worker': 'operator/src/render/render-worker.ts' },
      outdir: tmp,
      entryNames: '[name]',
      chunkNames: 'chunk-[hash]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      // Workspace packages (@anvil/core, @anvil/operator) are bundled from their TypeScript sources (package.json
      // exports); 'module' is what esbuild adds by itself when no conditions are given.
      conditions: ['anvil-source', 'module'],
      // Old enough to parse on an old Node, so that node-version.ts can say which one to use.
      target: 'node20',
      // Loaded from node_modules at run time: PGlite reads its WebAssembly next to itself; pg-native is optional.
      external: ['@electric-sql/pglite', 'pg', 'pg-native'],
      banner: { js: "import { createRequire as __anvilRequire } from 'node:module'; const require = __anvilRequire(import.meta.url);" },
      define: { ANVIL_VERSION: JSON.stringify(version) },
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: 'none',
      logLevel: 'warning',
    });
    const main = join(tmp, 'anvil.js');
    chmodSync(main, 0o755);
    writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }\n');
    // The sources read are at most as new as the start of the build: a source edited during it makes the next run rebuild.
    utimesSync(main, started, started);
    const built = readdirSync(tmp);
    const order = [...built.filter((f) => f !== 'anvil.js'), 'anvil.js'];
    for (const file of order) renameSync(join(tmp, file), join(outdir, file));
    for (const file of readdirSync(outdir)) {
      if (!file.startsWith('chunk-') || built.includes(file)) continue;
      const path = join(outdir, file);
      if (Date.now() - statSync(path).mtimeMs > STALE_CHUNK_MS) rmSync(path, { force: true });
    }
    return join(outdir, 'anvil.js');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildCli().catch((err: unknown) => {
    process.stderr.write(`anvil: building the CLI bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
