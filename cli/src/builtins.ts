// node:fs without its ESM facade: an `import` of a builtin evaluates every export, the lazy ones too (fs's streams,
// http's fetch implementation: kube-http.ts does the same for node:http), some 40 ms of the CLI's start.
// process.getBuiltinModule hands over the module itself.
import type * as NodeFs from 'node:fs';

// `?.` and the fallback: on a Node too old to have it, node-version.ts (evaluated after this) says which to use.
export const fs: typeof NodeFs = process.getBuiltinModule?.('node:fs') ?? ({} as typeof NodeFs);
