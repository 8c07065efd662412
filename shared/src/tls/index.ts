// The public entry of shared/src/tls: other parts import from here, never from its files.
export * from './config.js';
export * from './reloading-https.js';
export * from './serve.js';
