// The controller's modules form no import circle: context.ts is the bottom (it imports no sibling module but the
// ports), cleanup and bookkeeping sit on it, the phase handlers on those, the table and the runner on top.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative imports of a file that stay inside this folder, as paths relative to it (type-only imports included). */
function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)]
    .map((m) => resolve(dirname(file), `${m[1]}.ts`))
    .filter((p) => p.startsWith(root + '/'))
    .map((p) => relative(root, p));
}

const graph = new Map(sourceFiles(root).map((f) => [relative(root, f), localImports(f)]));

function findCycle(): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: string, path: string[]): string[] | undefined => {
    if (state.get(node) === 'visiting') return [...path.slice(path.indexOf(node)), node];
    if (state.get(node) === 'done') return undefined;
    state.set(node, 'visiting');
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next, [...path, node]);
      if (cycle) return cycle;
    }
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node, []);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('proxmoxtemplate module structure', () => {
  it('reads the imports of every module (the check below sees the real graph)', () => {
    expect(graph.get('runner.ts')).toEqual(expect.arrayContaining(['context.ts', 'phase-table.ts']));
    expect(graph.get('phase-table.ts')).toEqual(expect.arrayContaining(['phases/pending.ts', 'phases/ready.ts']));
  });

  it('has no import circle', () => {
    expect(findCycle()).toBeUndefined();
  });

  it('keeps context.ts at the bottom and cleanup.ts off the phase handlers', () => {
    expect(graph.get('context.ts')).toEqual(['ports.ts']);
    expect(graph.get('cleanup.ts')?.sort()).toEqual(['context.ts', 'settings.ts', 'source.ts']);
  });
});
