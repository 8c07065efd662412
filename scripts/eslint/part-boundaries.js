// An ESLint rule for anvil's part boundaries: a part imports another only through that part's public entries, and
// only the parts it may depend on (shared <- operator, boot-server; operator <- cli). Inside a part, anything goes.
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What each part may import from the others. */
export const MAY_IMPORT = { shared: [], operator: ['shared'], 'boot-server': ['shared'], cli: ['shared', 'operator'] };

/** A part's public entries: an area's index.js, a single-file module at the top of shared/src, the REST adapter. */
export const ENTRIES = {
  shared: /^shared\/src\/([a-z0-9-]+\/index|[a-z0-9-]+|kube\/rest-client)\.js$/,
  operator: /^operator\/src\/index\.js$/,
  'boot-server': /^$/,
  cli: /^$/,
};

const partOf = (path) => {
  const m = /^(shared|operator|boot-server|cli)\/src\//.exec(path);
  return m ? m[1] : undefined;
};

export const partBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: "import another part only through its public entry, and only the parts it may depend on" },
    schema: [],
  },
  create(context) {
    const file = relative(ROOT, context.filename);
    const own = partOf(file);
    if (!own) return {};
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = relative(ROOT, resolve(dirname(context.filename), source));
      const part = partOf(target);
      if (!part || part === own) return;
      if (!MAY_IMPORT[own].includes(part)) {
        context.report({ node, message: `${own} may not depend on ${part} (${target})` });
      } else if (!ENTRIES[part].test(target)) {
        context.report({ node, message: `import ${part} through its public entry, not its file ${target}` });
      }
    };
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};
