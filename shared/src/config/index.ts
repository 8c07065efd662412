// The public entry of shared/src/config: other parts import from here, never from its files.
export * from './parse.js';
export * from './flags.js';
export * from './common-flags.js';
export * from './flag-docs.js';
export * from './flag-docs-check.js';
