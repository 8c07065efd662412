// The public entry of shared/src/install: other parts import from here, never from its files.
export * from './event.js';
export * from './installer-events.js';
export * from './normalize.js';
export * from './host-status-updates.js';
