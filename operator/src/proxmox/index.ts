// The Proxmox VE adapter: API client, its port, errors, the distribution catalog and checksum parsing.
export * from './catalog.js';
export * from './checksums.js';
export * from './client.js';
export * from './errors.js';
export type * from './ports.js';
export * from './upid.js';
export * from './vm-params.js';
