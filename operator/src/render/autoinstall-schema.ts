// anvil's JSON schema of the Ubuntu autoinstall configuration (the mapping under the `autoinstall:` key of the
// user-data), written from the "Autoinstall configuration reference manual" of Ubuntu's installer (subiquity)
// documentation, and from curtin's documentation for the sections subiquity passes through (apt, storage actions,
// reporting).
//
// It is deliberately a little stricter than the installer where the documentation lists every key of a section
// (identity, ssh, keyboard...): an unknown key there is a typo anvil can report before a machine is booted, where
// subiquity would only warn. Sections that carry open-ended configuration of other tools (apt, storage, network,
// user-data, reporting destinations) accept keys this schema does not know.
//
// The top-level keys are those of autoinstall version 1 in Ubuntu 20.04 to 24.04 and later: anything else is
// refused (subiquity ignores unknown keys with a warning in version 1, and refuses them in later versions).
import type { SchemaObject } from 'ajv';
import { aptSchema } from './autoinstall-apt-schema.js';
import { commandList, stringList } from './autoinstall-schema-parts.js';
import { storageSchema } from './autoinstall-storage-schema.js';
import { netplanSchema } from './netplan-schema.js';

export { netplanSchema } from './netplan-schema.js';

export const autoinstallSchema: SchemaObject = {
  $id: 'https://anvil.dev/schemas/autoinstall-v1.json',
  title: 'Ubuntu autoinstall configuration, version 1 (the content of the autoinstall: key)',
  type: 'object',
  required: ['version'],
  additionalProperties: false,
  properties: {
    version: { const: 1, description: 'The configuration format version; currently always 1.' },

    'interactive-sections': {
      ...stringList,
      description: 'Sections still shown in the installer UI (with the configured values as defaults); "*" for all.',
    },
    'early-commands': { ...commandList, description: 'Commands run as soon as the installer starts, before probing devices.' },
    locale: { type: 'string', description: 'The locale of the installed system, e.g. en_US.UTF-8.' },
    'refresh-installer': {
      type: 'object',
      description: 'Whether the installer updates itself from a snap channel before installing.',
      properties: { update: { type: 'boolean' }, channel: { type: 'string' } },
      additionalProperties: false,
    },
    keyboard: {
      type: 'object',
      description: 'The keyboard layout (XKBLAYOUT, XKBVARIANT and the grp: toggle option).',
      properties: {
        layout: { type: 'string' },
        variant: { type: 'string' },
        toggle: { type: ['string', 'null'] },
      },
      additionalProperties: false,
    },
    source: {
      type: 'object',
      description: 'The installation source (e.g. ubuntu-server-minimal) and whether to search for third-party drivers.',
      properties: { id: { type: 'string' }, search_drivers: { type: 'boolean' } },
      additionalProperties: false,
    },
    network: {
      description: 'Netplan configuration for the installer and the installed system.',
      type: 'object',
      // the documented form is the netplan mapping itself; older configurations nest it once more under network:
      if: { required: ['network'] },
      then: { properties: { network: netplanSchema }, additionalProperties: false },
      else: netplanSchema,
    },
    proxy: {
      type: ['string', 'null'],
      description: 'HTTP proxy URL for the installer, apt and snapd.',
      pattern: '^[A-Za-z][A-Za-z0-9+.-]*://\\S+$',
    },
    apt: aptSchema,
    storage: storageSchema,
    identity: {
      type: 'object',
      description: 'The first user of the installed system and its hostname.',
      properties: {
        realname: { type: 'string' },
        username: { type: 'string', minLength: 1 },
        hostname: { type: 'string', minLength: 1 },
        password: { type: 'string', description: 'The crypt(3) hash of the password.' },
        groups: {
          anyOf: [
            stringList,
            { type: 'object', properties: { override: stringList }, required: ['override'], additionalProperties: false },
            { type: 'object', properties: { append: stringList }, required: ['append'], additionalProperties: false },
          ],
        },
      },
      required: ['username', 'hostname', 'password'],
      additionalProperties: false,
    },
    'active-directory': {
      type: 'object',
      description: 'Join an Active Directory domain (the admin password is asked for at run time).',
      properties: { 'admin-name': { type: 'string' }, 'domain-name': { type: 'string' } },
      additionalProperties: false,
    },
    'ubuntu-pro': {
      type: 'object',
      description: 'Attach to an Ubuntu Pro subscription with a contract token.',
      properties: { token: { type: 'string', minLength: 1 } },
      additionalProperties: false,
    },
    'ubuntu-advantage': {
      type: 'object',
      description: 'The earlier name of ubuntu-pro.',
      properties: { token: { type: 'string', minLength: 1 } },
      additionalProperties: false,
    },
    ssh: {
      type: 'object',
      description: 'OpenSSH server of the installed system.',
      properties: {
        'install-server': { type: 'boolean' },
        'authorized-keys': stringList,
        'allow-pw': { type: 'boolean' },
      },
      additionalProperties: false,
    },
    codecs: {
      type: 'object',
      properties: { install: { type: 'boolean' } },
      additionalProperties: false,
    },
    drivers: {
      type: 'object',
      properties: { install: { type: 'boolean' } },
      additionalProperties: false,
    },
    oem: {
      type: 'object',
      properties: { install: { anyOf: [{ type: 'boolean' }, { const: 'auto' }] } },
      additionalProperties: false,
    },
    snaps: {
      type: 'array',
      description: 'Snaps to install.',
      items: {
        type: 'object',
        properties: { name: { type: 'string', minLength: 1 }, channel: { type: 'string' }, classic: { type: 'boolean' } },
        required: ['name'],
        additionalProperties: false,
      },
    },
    'debconf-selections': { type: 'string', description: 'debconf set-selections input for the installed system.' },
    packages: { ...stringList, description: 'Packages to install (arguments of apt-get install).' },
    kernel: {
      type: 'object',
      description: 'The kernel to install: set either package or flavor, not both.',
      properties: { package: { type: 'string' }, flavor: { type: 'string' } },
      additionalProperties: false,
      oneOf: [{ required: ['package'] }, { required: ['flavor'] }],
    },
    'kernel-crash-dumps': {
      type: 'object',
      properties: { enabled: { type: ['boolean', 'null'] } },
      additionalProperties: false,
    },
    timezone: { type: 'string', description: 'The timezone of the installed system, e.g. Etc/UTC.' },
    updates: { enum: ['security', 'all'], description: 'Which updates are installed before the first boot.' },
    shutdown: { enum: ['reboot', 'poweroff'], description: 'What happens when the installation has finished.' },
    'late-commands': { ...commandList, description: 'Commands run after the installation, with the new system at /target.' },
    'error-commands': { ...commandList, description: 'Commands run when the installation fails.' },
    reporting: {
      type: 'object',
      description: 'Where the installer reports progress: destination name to reporter.',
      additionalProperties: {
        type: 'object',
        properties: { type: { enum: ['print', 'rsyslog', 'webhook', 'journald', 'log', 'none'] } },
        required: ['type'],
        if: { properties: { type: { const: 'webhook' } } },
        then: {
          properties: {
            endpoint: { type: 'string', pattern: '^https?://\\S+$' },
            consumer_key: { type: 'string' },
            consumer_secret: { type: 'string' },
            token_key: { type: 'string' },
            token_secret: { type: 'string' },
            level: { enum: ['DEBUG', 'INFO', 'WARN', 'WARNING', 'ERROR', 'CRITICAL', 'FATAL'] },
            retries: { type: 'array', items: { type: 'number', minimum: 0 }, description: 'seconds to sleep before each retry of a failed POST' },
            timeout: { type: 'number', minimum: 0 },
          },
          required: ['endpoint'],
        },
      },
    },
    'user-data': { type: 'object', description: 'cloud-init user-data for the first boot of the installed system.' },
    zdevs: {
      type: 'array',
      description: 'IBM Z devices to enable or disable.',
      items: {
        type: 'object',
        properties: { id: { type: 'string' }, enabled: { type: 'boolean' } },
        required: ['id', 'enabled'],
        additionalProperties: false,
      },
    },
  },
};
