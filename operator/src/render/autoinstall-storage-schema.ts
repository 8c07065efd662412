// The storage section of anvil's autoinstall schema: a named layout, or curtin storage actions under config. It
// accepts keys this schema does not know (see autoinstall-schema.ts).

/** A disk match spec (storage layouts and disk actions). */
const matchSpec = {
  type: 'object',
  description: 'Selects a disk by udev properties (glob patterns), SSD-ness, size or the install media.',
  properties: {
    model: { type: 'string' },
    vendor: { type: 'string' },
    path: { type: 'string' },
    id_path: { type: 'string' },
    devpath: { type: 'string' },
    serial: { type: 'string' },
    ssd: { type: 'boolean' },
    size: { enum: ['largest', 'smallest'] },
    'install-media': { type: 'boolean' },
  },
  additionalProperties: false,
};

export const storageSchema = {
  type: 'object',
  description: 'Disk layout: a named layout, or curtin storage actions under config.',
  properties: {
    layout: {
      type: 'object',
      properties: {
        name: { enum: ['lvm', 'direct', 'zfs', 'hybrid'] },
        match: { anyOf: [matchSpec, { type: 'array', items: matchSpec }] },
        password: { type: 'string' },
        'sizing-policy': { enum: ['scaled', 'all'] },
        'reset-partition': { type: ['boolean', 'string', 'integer'] },
        'reset-partition-only': { type: 'boolean' },
        ptable: { enum: ['gpt', 'msdos', 'vtoc'] },
        encrypted: { type: 'boolean' },
      },
      required: ['name'],
    },
    config: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          type: { type: 'string' },
          id: { type: 'string' },
          match: { anyOf: [matchSpec, { type: 'array', items: matchSpec }] },
        },
        required: ['type'],
      },
    },
    swap: {
      type: 'object',
      properties: { size: { type: ['integer', 'string'] }, filename: { type: 'string' }, maxsize: { type: ['integer', 'string'] } },
    },
    grub: { type: 'object' },
    version: { type: 'integer' },
  },
};
