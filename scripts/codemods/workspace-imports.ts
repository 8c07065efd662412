// The npm-workspaces codemod: rewrites relative imports that cross from one part (workspace package) into another,
// `../../shared/src/kube/index.js`, to the package's name, `@anvil/core/kube`. Idempotent: run it again after a merge
// (`node scripts/codemods/workspace-imports.ts [--check]`; --check changes nothing and exits 1 if something would).
//
// It also makes every Node process started from sources ask for the packages' TypeScript sources: `'--import', 'tsx'`,
// `node --import tsx`, `npx tsx` and `tsx <script>` (in .ts, .sh and package.json) get `--conditions=anvil-source`.
//
// A specifier that names a package's public entry becomes that entry. One that names another of the package's files
// becomes the entry of its area when every name it imports is the same declaration re-exported there
// (`../../shared/src/kube/cache.js` -> `@anvil/core/kube`). Anything else is a reach into the package's internals:
// tests, benchmarks and scripts get `@anvil/<pkg>/src/<path>.js` (exported under the anvil-source condition only, so
// never in the compiled image); in a package's own (non-test) code it is reported and left alone (the lint rule,
// scripts/eslint/part-boundaries.js, fails on it) to be fixed by hand.
import ts from 'typescript';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The parts and their package names (the directory stays the part's name). */
const PACKAGES: Record<string, string> = { shared: '@anvil/core', operator: '@anvil/operator', 'boot-server': '@anvil/boot-server', cli: '@anvil/cli' };

const partOf = (path: string): string | undefined => /^(shared|operator|boot-server|cli)\/src\//.exec(path)?.[1];
const isTestFile = (path: string): boolean => !partOf(path) || /\.test\.ts$/.test(path) || /\/testing\//.test(path);

/** The package specifier of a public entry (the target's path from the root, with .js), or undefined. */
function entrySpecifier(target: string): string | undefined {
  let m = /^shared\/src\/(?:([a-z0-9-]+)\/index|(kube\/rest-client)|([a-z0-9-]+))\.js$/.exec(target);
  if (m) return `${PACKAGES.shared}/${m[1] ?? m[2] ?? m[3]}`;
  m = /^operator\/src\/index\.js$/.exec(target);
  if (m) return PACKAGES.operator;
  return undefined;
}

/** The entry that a file of an area is expected to be re-exported from: [specifier, entry file]. */
function areaEntry(target: string): [string, string] | undefined {
  const m = /^shared\/src\/([a-z0-9-]+)\//.exec(target);
  if (m) return [`${PACKAGES.shared}/${m[1]}`, `shared/src/${m[1]}/index.ts`];
  if (target.startsWith('operator/src/')) return [PACKAGES.operator!, 'operator/src/index.ts'];
  return undefined;
}

const internalSpecifier = (target: string): string => {
  const part = partOf(target)!;
  return `${PACKAGES[part]}/${target.slice(part.length + 1)}`;
};

const check = process.argv.includes('--check');
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => /^(shared|operator|boot-server|cli|test|bench|scripts)\//.test(f));

// The type checker says which names an area's entry re-exports. Built lazily: only needed for a deep import.
let checker: ts.TypeChecker | undefined;
let program: ts.Program | undefined;
function typeChecker(): [ts.Program, ts.TypeChecker] {
  if (!program) {
    const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    program = ts.createProgram({ rootNames: files.map((f) => join(ROOT, f)), options: { ...config.options, noEmit: true } });
    checker = program.getTypeChecker();
  }
  return [program, checker!];
}

const resolveAlias = (c: ts.TypeChecker, s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias ? c.getAliasedSymbol(s) : s);

/** Whether every name is exported by `entryFile` as the same declaration as by `targetFile`. */
function reExported(entryFile: string, targetFile: string, names: string[]): boolean {
  const [p, c] = typeChecker();
  const exportsOf = (file: string): Map<string, ts.Symbol> | undefined => {
    const sf = p.getSourceFile(join(ROOT, file));
    const mod = sf && c.getSymbolAtLocation(sf);
    return mod ? new Map(c.getExportsOfModule(mod).map((s) => [s.name, resolveAlias(c, s)])) : undefined;
  };
  const fromEntry = exportsOf(entryFile);
  const fromTarget = exportsOf(targetFile);
  if (!fromEntry || !fromTarget) return false;
  return names.every((n) => fromEntry.get(n) !== undefined && fromEntry.get(n) === fromTarget.get(n));
}

/** The names an import/export declaration takes from its module, or undefined for default/namespace/side-effect ones. */
function importedNames(node: ts.Node): string[] | undefined {
  if (ts.isImportDeclaration(node)) {
    const clause = node.importClause;
    if (!clause || clause.name || !clause.namedBindings || !ts.isNamedImports(clause.namedBindings)) return undefined;
    return clause.namedBindings.elements.map((e) => (e.propertyName ?? e.name).text);
  }
  if (ts.isExportDeclaration(node) && node.exportClause && ts.isNamedExports(node.exportClause)) {
    return node.exportClause.elements.map((e) => (e.propertyName ?? e.name).text);
  }
  return undefined;
}

let changedFiles = 0;
let rewritten = 0;
const problems: string[] = [];
for (const file of files) {
  const text = readFileSync(join(ROOT, file), 'utf8');
  if (!/['"]\.\.?\//.test(text)) continue;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const own = partOf(file);
  const edits: { start: number; end: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    let literal: ts.StringLiteral | undefined;
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      literal = node.moduleSpecifier;
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      literal = node.arguments[0];
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      literal = node.argument.literal;
    }
    if (literal && literal.text.startsWith('.')) {
      const target = relative(ROOT, resolve(dirname(join(ROOT, file)), literal.text));
      const part = partOf(target);
      if (part && part !== own) {
        let spec = entrySpecifier(target);
        if (!spec) {
          const area = areaEntry(target);
          const names = importedNames(node);
          if (area && names && reExported(area[1], target.replace(/\.js$/, '.ts'), names)) spec = area[0];
        }
        if (!spec && isTestFile(file)) spec = internalSpecifier(target);
        if (spec) {
          const quote = text[literal.getStart(sf)];
          edits.push({ start: literal.getStart(sf), end: literal.getEnd(), text: `${quote}${spec}${quote}` });
        } else {
          const { line } = sf.getLineAndCharacterOfPosition(literal.getStart(sf));
          problems.push(`${file}:${line + 1}: '${literal.text}' reaches into ${PACKAGES[part]}'s files: import it from a public entry`);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  if (!edits.length) continue;
  changedFiles++;
  rewritten += edits.length;
  if (check) {
    for (const e of edits) console.log(`${file}: ${text.slice(e.start, e.end)} -> ${e.text}`);
    continue;
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  writeFileSync(join(ROOT, file), out);
}
// Processes started from sources: add the anvil-source condition (test/unit/workspaces.test.ts checks none is missing).
const CONDITION = '--conditions=anvil-source';
const FLAG_EDITS: [RegExp, string][] = [
  [/(?<!'--conditions=anvil-source', )'--import', 'tsx'/g, `'${CONDITION}', '--import', 'tsx'`],
  [/\b(node(?:_modules\/\.bin\/node)?) --import tsx\b/g, `$1 ${CONDITION} --import tsx`],
  [/(\bnpx tsx|["`]tsx) (?!--conditions)(?=[a-z.])/g, `$1 ${CONDITION} `],
];
const flagFiles = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.sh', 'package.json', 'scripts/anvil', 'scripts/kubectl-anvil'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && /^(shared|operator|boot-server|cli|test|bench|scripts)\/|^package\.json$/.test(f) && !['scripts/codemods/workspace-imports.ts', 'test/unit/workspaces.test.ts'].includes(f));
let flagged = 0;
for (const file of flagFiles) {
  const text = readFileSync(join(ROOT, file), 'utf8');
  let out = text;
  for (const [re, to] of FLAG_EDITS) out = out.replace(re, to);
  if (out === text) continue;
  flagged++;
  if (check) console.log(`${file}: needs ${CONDITION}`);
  else writeFileSync(join(ROOT, file), out);
}
console.log(`${check ? 'would add' : 'added'} ${CONDITION} in ${flagged} files`);
if (check && flagged) process.exitCode = 1;

for (const p of problems) console.error(p);
console.log(`${check ? 'would rewrite' : 'rewrote'} ${rewritten} imports in ${changedFiles} files; ${problems.length} left for a hand fix`);
if ((check && rewritten) || problems.length) process.exitCode = 1;
