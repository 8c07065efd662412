// A Proxmox VE API simulator driven by the reference schema; see docs/proxmox.md.
export { ProxmoxSimulator, type SimulatorOptions, type SimRequestRecord, type SimTask, type SimToken } from './simulator.js';
export { PveSchema, pveReferenceAvailable, PVE_REFERENCE_DIR, type PveMajor } from './schema.js';
export { validateParameters, parsePropertyString, uncheckedFormats, type ParamErrors } from './validate.js';
export { hashOf, GiB } from './state.js';
