// The public entry of shared/src/bootconfig: other parts import from here, never from its files.
export * from './boot-config.js';
export * from './ipxe.js';
export * from './ignition-url.js';
export * from './preseed-url.js';
