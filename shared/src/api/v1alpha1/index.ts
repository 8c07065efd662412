export * from './common.js';
export * from './baremetalhost.js';
export * from './autoinstalltemplate.js';
export * from './rollout.js';
export * from './proxmoxtemplate.js';
