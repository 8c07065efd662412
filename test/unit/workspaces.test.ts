// The npm workspaces, checked: each part is a package whose exports name existing sources (anvil-source) and the
// compiled files built from them (types, default), and every process started from sources passes the anvil-source
// condition (without it a workspace import resolves to dist/: missing in a checkout, or stale after `npm run build`).
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const PARTS = ['shared', 'operator', 'boot-server', 'cli', 'dashboard'];

type Target = string | Record<string, string>;
const manifest = (dir: string): { name: string; exports: Record<string, Target>; dependencies?: Record<string, string> } =>
  JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (/\.(ts|sh)$/.test(name)) out.push(path);
  }
  return out;
}

describe('npm workspaces', () => {
  it('lists every part as a workspace', () => {
    expect((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces).toEqual(PARTS);
  });

  it.each(PARTS)("%s: every export's source exists, and its compiled files are that source's", (dir) => {
    for (const [subpath, target] of Object.entries(manifest(dir).exports)) {
      if (typeof target === 'string') continue;
      const source = target['anvil-source'];
      expect(source).toBeDefined();
      if (subpath.includes('*')) continue;
      expect(existsSync(join(ROOT, dir, source!))).toBe(true);
      const stem = source!.replace(/^\.\/src\//, './dist/').replace(/\.ts$/, '');
      expect([subpath, target.types, target.default]).toEqual([subpath, `${stem}.d.ts`, `${stem}.js`]);
    }
  });

  it("sends every part's sources to the image build: each COPY of the Dockerfile's build stage is in .dockerignore's allowlist", () => {
    const allowed = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1).trim());
    const copied = [...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
    const covered = (path: string) => allowed.some((a) => a === path || (a.startsWith('*/') && path.endsWith(a.slice(1))));
    expect(copied.filter((p) => !covered(p))).toEqual([]);
    for (const part of PARTS) expect(copied).toContain(`${part}/src`);
  });

  it('starts every process from sources with the anvil-source condition', () => {
    const missing = ['test', 'bench', 'scripts', ...PARTS.map((p) => `${p}/src`)]
      .flatMap((d) => files(join(ROOT, d)))
      .filter((f) => !f.endsWith('workspaces.test.ts') && !f.endsWith('codemods/workspace-imports.ts'))
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').map((line, i) => ({ where: `${relative(ROOT, f)}:${i + 1}`, line })))
      .filter(({ line }) => /'--import', 'tsx'|'--import', join\([^)]*tsx\/dist|--import tsx|\btsx (scripts|bench|shared|operator|boot-server|cli)\//.test(line) && !line.includes('--conditions=anvil-source'))
      .map(({ where }) => where);
    expect(missing).toEqual([]);
  });
});
