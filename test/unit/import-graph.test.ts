// The shape of the code, checked: no import circles between modules, and no source file grown past ~300 lines.
// Static imports and `import type` both count; dynamic `import()` does not: the CLI loads a command's code lazily
// from the registry that also lists it, on purpose, to start fast.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE_DIRS = ['shared/src', 'operator/src', 'boot-server/src', 'cli/src', 'dashboard/src'];
const SIZE_CHECKED_DIRS = [...SOURCE_DIRS, 'bench', 'test/harness', 'test/proxmox-sim'];
const MAX_LINES = 320;

function tsFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) tsFiles(path, out);
    else if (path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const STATIC_IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+|@anvil\/[^'"]+)['"]/gm;

/** The workspace packages' exports under the anvil-source condition: `@anvil/core/kube` -> shared/src/kube/index.ts. */
const PACKAGE_EXPORTS = new Map<string, string>();
for (const dir of SOURCE_DIRS.map((d) => d.split('/')[0]!)) {
  const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as { name: string; exports: Record<string, string | Record<string, string>> };
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const source = typeof target === 'string' ? undefined : target['anvil-source'];
    if (source && !subpath.includes('*')) PACKAGE_EXPORTS.set(pkg.name + subpath.slice(1), join(ROOT, dir, source));
  }
}

function resolveImport(from: string, spec: string): string | undefined {
  if (spec.startsWith('@anvil/')) {
    const internal = /^(@anvil\/[a-z0-9-]+)\/src\/(.*)\.js$/.exec(spec);
    const dir = internal && SOURCE_DIRS.find((d) => readFileSync(join(ROOT, d.split('/')[0]!, 'package.json'), 'utf8').includes(`"name": "${internal[1]}"`));
    return internal && dir ? join(ROOT, dir, `${internal[2]}.ts`) : PACKAGE_EXPORTS.get(spec);
  }
  const target = resolve(dirname(from), spec).replace(/\.js$/, '.ts');
  if (existsSync(target)) return target;
  const index = join(target.replace(/\.ts$/, ''), 'index.ts');
  return existsSync(index) ? index : undefined;
}

export function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const deps = new Set<string>();
    for (const m of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      const target = resolveImport(file, m[1]!);
      if (target) deps.add(target);
    }
    graph.set(file, [...deps]);
  }
  return graph;
}

/** Strongly connected components with more than one module (Tarjan), i.e. the import circles. */
export function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('import graph', () => {
  it('finds a circle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(circles(graph)).toEqual([['a', 'b', 'c']]);
    expect(circles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });

  it('has no import circles in the product code', () => {
    const files = SOURCE_DIRS.flatMap((d) => tsFiles(join(ROOT, d)));
    expect(files.length).toBeGreaterThan(100);
    const found = circles(importGraph(files)).map((c) => c.map((f) => relative(ROOT, f)));
    expect(found).toEqual([]);
  });
});

describe('file size', () => {
  it(`keeps every source file at or under ${MAX_LINES} lines`, () => {
    const oversize = SIZE_CHECKED_DIRS.flatMap((d) => tsFiles(join(ROOT, d)))
      .map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > MAX_LINES);
    expect(oversize).toEqual([]);
  });
});
