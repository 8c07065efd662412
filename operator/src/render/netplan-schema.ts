// The netplan version 2 schema: the network section of autoinstall, and the NoCloud network-config.
import type { SchemaObject } from 'ajv';

/** A netplan version 2 configuration (also used for the NoCloud network-config). */
export const netplanSchema: SchemaObject = {
  type: 'object',
  description: 'Netplan configuration (version 2).',
  properties: {
    version: { const: 2, description: 'The netplan format version; must be 2.' },
    renderer: { enum: ['networkd', 'NetworkManager', 'sriov'] },
    ethernets: { type: 'object', additionalProperties: { type: 'object' } },
    wifis: { type: 'object', additionalProperties: { type: 'object' } },
    bonds: { type: 'object', additionalProperties: { type: 'object' } },
    bridges: { type: 'object', additionalProperties: { type: 'object' } },
    vlans: { type: 'object', additionalProperties: { type: 'object' } },
    tunnels: { type: 'object', additionalProperties: { type: 'object' } },
    vrfs: { type: 'object', additionalProperties: { type: 'object' } },
    modems: { type: 'object', additionalProperties: { type: 'object' } },
    'dummy-devices': { type: 'object', additionalProperties: { type: 'object' } },
    'virtual-ethernets': { type: 'object', additionalProperties: { type: 'object' } },
    'nm-devices': { type: 'object', additionalProperties: { type: 'object' } },
  },
  required: ['version'],
};
