// The public entry of shared/src/json: other parts import from here, never from its files.
export * from './merge-patch.js';
