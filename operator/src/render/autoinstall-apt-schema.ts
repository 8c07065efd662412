// The apt section of anvil's autoinstall schema: curtin's apt format, with subiquity's mirror-selection, fallback
// and geoip. It accepts keys this schema does not know (see autoinstall-schema.ts).
import { stringList } from './autoinstall-schema-parts.js';

/** curtin apt mirror list entries (apt.primary and apt.security in the legacy format). */
const aptMirror = {
  type: 'object',
  properties: {
    arches: stringList,
    uri: { type: 'string' },
    search: stringList,
    search_dns: { type: 'boolean' },
  },
};

export const aptSchema = {
  type: 'object',
  description: "APT configuration (curtin's apt format, with subiquity's mirror-selection, fallback and geoip).",
  properties: {
    preserve_sources_list: { type: 'boolean' },
    primary: { type: 'array', items: aptMirror },
    security: { type: 'array', items: aptMirror },
    'mirror-selection': {
      type: 'object',
      properties: {
        primary: {
          type: 'array',
          items: {
            anyOf: [
              { const: 'country-mirror' },
              {
                type: 'object',
                properties: { uri: { type: 'string' }, arches: stringList },
                required: ['uri'],
                additionalProperties: false,
              },
            ],
          },
        },
      },
      required: ['primary'],
      additionalProperties: false,
    },
    fallback: { enum: ['abort', 'offline-install', 'continue-anyway'] },
    geoip: { type: 'boolean' },
    sources: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          source: { type: 'string' },
          keyid: { type: 'string' },
          key: { type: 'string' },
          keyserver: { type: 'string' },
          filename: { type: 'string' },
          append: { type: 'boolean' },
        },
      },
    },
    sources_list: { type: 'string' },
    disable_components: { type: 'array', items: { enum: ['main', 'universe', 'multiverse', 'restricted'] } },
    disable_suites: stringList,
    conf: { type: 'string' },
    debconf_selections: { type: 'object', additionalProperties: { type: 'string' } },
    proxy: { type: 'string' },
    http_proxy: { type: 'string' },
    https_proxy: { type: 'string' },
    ftp_proxy: { type: 'string' },
    add_apt_repo_match: { type: 'string' },
    preferences: {
      type: 'array',
      items: {
        type: 'object',
        properties: { package: { type: 'string' }, pin: { type: 'string' }, 'pin-priority': { type: 'integer' } },
        required: ['package', 'pin', 'pin-priority'],
      },
    },
  },
};
