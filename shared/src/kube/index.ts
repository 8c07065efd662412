export * from './types.js';
export * from './errors.js';
export * from './resources.js';
export * from './store.js';
export * from './informer.js';
export * from './cache.js';
