// An ESLint rule for anvil's package boundaries. The parts are npm workspace packages (shared = @anvil/core,
// operator = @anvil/operator, boot-server = @anvil/boot-server, cli = @anvil/cli, dashboard = @anvil/dashboard): one
// imports another only by its package name, through the public entries of its package.json `exports`, and only the
// packages it may depend on (@anvil/core <- @anvil/operator, @anvil/boot-server, @anvil/dashboard; @anvil/dashboard <-
// @anvil/operator; @anvil/operator <- @anvil/cli). Inside a package, relative
// imports as before. Tests (*.test.ts, testing/, and test/, bench/, scripts/) may reach into a package's files, but
// also by name: `@anvil/core/src/kube/cache.js` (exported under the anvil-source condition only, never compiled).
// scripts/codemods/workspace-imports.ts rewrites relative cross-package imports to these names.
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Directory -> package name. */
export const PACKAGES = { shared: '@anvil/core', operator: '@anvil/operator', 'boot-server': '@anvil/boot-server', cli: '@anvil/cli', dashboard: '@anvil/dashboard' };
const DIRS = Object.fromEntries(Object.entries(PACKAGES).map(([dir, name]) => [name, dir]));

/** What each package may import from the others. */
export const MAY_IMPORT = {
  '@anvil/core': [],
  '@anvil/operator': ['@anvil/core', '@anvil/dashboard'],
  '@anvil/boot-server': ['@anvil/core'],
  '@anvil/cli': ['@anvil/core', '@anvil/operator'],
  '@anvil/dashboard': ['@anvil/core'],
};

const partOf = (path) => /^(shared|operator|boot-server|cli|dashboard)\/src\//.exec(path)?.[1];
const isTest = (path) => !partOf(path) || /\.test\.ts$/.test(path) || /\/testing\//.test(path);

/** `@anvil/core/kube` -> ['@anvil/core', './kube']; anything else -> undefined. */
const splitSpecifier = (source) => {
  const m = /^(@anvil\/[a-z0-9-]+)(\/.*)?$/.exec(source);
  return m ? [m[1], m[2] ? `.${m[2]}` : '.'] : undefined;
};

export const partBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'import another workspace package by its name, through its public exports, and only the packages it may depend on' },
    schema: [],
  },
  create(context) {
    const file = relative(ROOT, context.filename);
    const ownDir = partOf(file);
    const own = ownDir && PACKAGES[ownDir];
    const test = isTest(file);
    const check = (node, source) => {
      if (typeof source !== 'string') return;
      if (source.startsWith('.')) {
        const target = relative(ROOT, resolve(dirname(context.filename), source));
        const dir = partOf(target) ?? /^(shared|operator|boot-server|cli|dashboard)\//.exec(target)?.[1];
        if (dir && dir !== ownDir) {
          context.report({ node, message: `import ${PACKAGES[dir]} by its package name, not by the relative path ${source} (scripts/codemods/workspace-imports.ts rewrites it)` });
        }
        return;
      }
      const split = splitSpecifier(source);
      if (!split) return;
      const [name, subpath] = split;
      if (!DIRS[name]) {
        context.report({ node, message: `${name} is not a workspace package (${Object.values(PACKAGES).join(', ')})` });
        return;
      }
      if (test) return;
      if (name === own) {
        context.report({ node, message: `inside ${own}, import its files by relative path, not by its package name` });
      } else if (!MAY_IMPORT[own].includes(name)) {
        context.report({ node, message: `${own} may not depend on ${name}` });
      } else if (subpath.startsWith('./src/')) {
        context.report({ node, message: `import ${name} through its public exports, not its file ${source} (only tests may)` });
      }
    };
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
      TSImportType: (node) => {
        const arg = node.argument;
        const lit = arg?.type === 'TSLiteralType' ? arg.literal : arg;
        if (lit?.type === 'Literal') check(lit, lit.value);
      },
    };
  },
};
