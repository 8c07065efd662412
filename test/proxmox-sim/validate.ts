// Parameter verification as PVE's PVE::JSONSchema does it (check_object/check_prop/parse_property_string), with its
// messages: unknown parameters, missing ones, type, enum, pattern (anchored), length, range, `requires`, indexed
// options (scsi0..scsi30 against `scsi[n]`), property strings (`scsi0=local-lvm:0,import-from=...`, with default
// keys and key aliases such as `virtio=<mac>`) and the named formats anvil's calls touch. Named formats this file
// does not know are accepted and reported by uncheckedFormats so a test can see the gap.
import type { PveParameters, PveProperty } from './schema.js';

export type ParamErrors = Record<string, string>;

/** The highest index of indexed options whose description does not say "n is 0 to N" (PVE's constants). */
const INDEX_MAX: Record<string, number> = { net: 31, ipconfig: 31, hostpci: 15, numa: 7, unused: 255, virtiofs: 9 };

function indexMax(name: string, prop: PveProperty): number {
  const m = /n is 0 to (\d+)/.exec(prop.description ?? '');
  return m ? Number(m[1]) : INDEX_MAX[name] ?? 255;
}

/** The schema property a parameter name refers to, resolving indexed names (scsi0 -> scsi[n]). */
export function propertyFor(properties: Record<string, PveProperty>, key: string): PveProperty | undefined {
  if (Object.hasOwn(properties, key)) return properties[key];
  const m = /^([a-z]+)(\d+)$/.exec(key);
  if (!m) return undefined;
  const prop = properties[`${m[1]}[n]`];
  if (!prop) return undefined;
  return Number(m[2]) <= indexMax(m[1]!, prop) ? prop : undefined;
}

function addError(errors: ParamErrors, path: string, message: string): void {
  const p = path || '_root';
  errors[p] = errors[p] ? `${errors[p]}\n${message}` : message;
}

const isOptional = (p: PveProperty) => Boolean(p.optional) || Boolean(p.alias);

/** Verifies request parameters (path parameters included) against a method's `parameters` schema. */
export function validateParameters(schema: PveParameters, params: Record<string, string>): ParamErrors {
  const errors: ParamErrors = {};
  const properties = schema.properties ?? {};
  for (const [name, prop] of Object.entries(properties)) {
    if (name.endsWith('[n]')) continue;
    if (params[name] === undefined && !isOptional(prop)) addError(errors, name, 'property is missing and it is not optional');
  }
  for (const [key, value] of Object.entries(params)) {
    const prop = propertyFor(properties, key);
    if (!prop) {
      if (!schema.additionalProperties) {
        addError(errors, key, 'property is not defined in schema and the schema does not allow additional properties');
      }
      continue;
    }
    checkProp(value, prop, key, errors);
    if (typeof prop.requires === 'string' && params[prop.requires] === undefined) {
      addError(errors, prop.requires, `missing property - '${key}' requires this property`);
    }
  }
  return errors;
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/;

function checkProp(value: string | undefined, prop: PveProperty, path: string, errors: ParamErrors): void {
  if (value === undefined) {
    if (!isOptional(prop)) addError(errors, path, 'property is missing and it is not optional');
    return;
  }
  const type = prop.type;
  if (type === 'boolean' && value !== '0' && value !== '1') return addError(errors, path, `type check ('boolean') failed - got '${value}'`);
  if (type === 'integer' && !INTEGER.test(value)) return addError(errors, path, `type check ('integer') failed - got '${value}'`);
  if (type === 'number' && !NUMBER.test(value)) return addError(errors, path, `type check ('number') failed - got '${value}'`);
  if (prop.format !== undefined) {
    const err = checkFormat(prop.format, value, path);
    if (err !== undefined) return addError(errors, path, `invalid format - ${err}`);
  }
  if (prop.pattern && !new RegExp(`^(?:${prop.pattern})$`).test(value)) return addError(errors, path, 'value does not match the regex pattern');
  if (prop.maxLength !== undefined && value.length > prop.maxLength) return addError(errors, path, `value may only be ${prop.maxLength} characters long`);
  if (prop.minLength !== undefined && value.length < prop.minLength) return addError(errors, path, `value must be at least ${prop.minLength} characters long`);
  if (NUMBER.test(value)) {
    if (prop.maximum !== undefined && Number(value) > Number(prop.maximum)) return addError(errors, path, `value must have a maximum value of ${prop.maximum}`);
    if (prop.minimum !== undefined && Number(value) < Number(prop.minimum)) return addError(errors, path, `value must have a minimum value of ${prop.minimum}`);
  }
  if (Array.isArray(prop.enum) && !prop.enum.some((e) => String(e) === value)) {
    addError(errors, path, `value '${value}' does not have a value in the enumeration '${prop.enum.join(', ')}'`);
  }
}

/** Named formats that are accepted without a check (not used by anvil's calls). */
export const uncheckedFormats = new Set<string>();

/** undefined when valid, otherwise PVE's message (ending in a newline, as PVE's `die` messages do). */
function checkFormat(format: string | Record<string, PveProperty>, value: string, path: string): string | undefined {
  if (typeof format === 'object') return checkPropertyString(format, value, path);
  const list = /^(.*)-a?list$/.exec(format);
  if (list && !NAMED[format]) {
    for (const item of splitList(value)) {
      const err = checkNamed(list[1]!, item, path);
      if (err) return err;
    }
    return undefined;
  }
  return checkNamed(format, value, path);
}

function checkNamed(format: string, value: string, path: string): string | undefined {
  const f = NAMED[format];
  if (f === undefined) {
    uncheckedFormats.add(format);
    return undefined;
  }
  return typeof f === 'function' ? f(value) : checkPropertyString(f, value, path);
}

/** PVE::Tools::split_list. */
export function splitList(value: string): string[] {
  return value.split(/[;,\s\0]+/).filter(Boolean);
}

/** PVE::JSONSchema::parse_property_string, returning the parsed object (or throwing the message). */
export function parsePropertyString(format: Record<string, PveProperty>, data: string): Record<string, string> {
  const res: Record<string, string> = {};
  let defaultKey: string | undefined;
  for (const part of data.split(',')) {
    if (/^\s*$/.test(part)) continue;
    const kv = /^([^=]+)=(.+)$/.exec(part);
    if (kv) {
      let k = kv[1]!;
      let v = kv[2]!;
      if (res[k] !== undefined) throw new Error(`duplicate key in comma-separated list property: ${k}\n`);
      let schema = format[k];
      if (schema?.alias) {
        if (schema.keyAlias) {
          if (res[schema.keyAlias] !== undefined) throw new Error(`key alias '${schema.keyAlias}' is already defined\n`);
          res[schema.keyAlias] = k;
        }
        k = schema.alias;
        schema = format[k];
      }
      if (!schema) throw new Error(`invalid key in comma-separated list property: ${k}\n`);
      if (schema.type === 'boolean') v = /^(1|on|yes|true)$/i.test(v) ? '1' : /^(0|off|no|false)$/i.test(v) ? '0' : v;
      res[k] = v;
    } else if (!part.includes('=')) {
      if (defaultKey) throw new Error(`duplicate key in comma-separated list property: ${defaultKey}\n`);
      defaultKey = Object.keys(format).find((key) => format[key]!.default_key);
      if (!defaultKey) throw new Error('value without key, but schema does not define a default key\n');
      if (res[defaultKey] !== undefined) throw new Error(`duplicate key in comma-separated list property: ${defaultKey}\n`);
      res[defaultKey] = part;
    } else {
      throw new Error('missing key in comma-separated list property\n');
    }
  }
  return res;
}

function checkPropertyString(format: Record<string, PveProperty>, value: string, path: string): string | undefined {
  let parsed: Record<string, string>;
  try {
    parsed = parsePropertyString(format, value);
  } catch (err) {
    return (err as Error).message;
  }
  const errors: ParamErrors = {};
  for (const [k, sub] of Object.entries(format)) checkProp(parsed[k], sub, `${path}.${k}`, errors);
  for (const k of Object.keys(parsed)) {
    const req = format[k]?.requires;
    if (typeof req === 'string' && parsed[req] === undefined) addError(errors, `${path}.${req}`, `missing property - '${path}.${k}' requires this property`);
  }
  if (Object.keys(errors).length === 0) return undefined;
  // PVE::Exception stringified: the message, then one "<path>: <error>" line per error.
  return `format error\n${Object.entries(errors).map(([k, v]) => `${k}: ${v}\n`).join('')}`;
}

// ------------------------------------------------------------------------------------------------- named formats

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const isIpv6 = (v: string) => /^[0-9A-Fa-f:.]+$/.test(v) && v.includes(':') && (v.match(/::/g)?.length ?? 0) <= 1;
const DNS_LABEL = '([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)';
const DNS_NAME = new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`);
const STORAGE_ID = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
const VOLUME_ID = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i;
const cidr = (v: string, isIp: (s: string) => boolean, min: number, max: number) => {
  const m = /^(.+)\/(\d+)$/.exec(v);
  return Boolean(m && isIp(m[1]!) && Number(m[2]) >= min && Number(m[2]) <= max);
};

type NamedFormat = ((value: string) => string | undefined) | Record<string, PveProperty>;
const fail = (ok: boolean, message: string) => (ok ? undefined : `${message}\n`);
const volumeId = (v: string) => fail(VOLUME_ID.test(v), `unable to parse volume ID '${v}'`);

const BOOT_DEVICE = /^(ide|sata|scsi|virtio|efidisk|tpmstate|unused|net|hostpci|usb)\d+$/;
const STORAGE_CONTENT = ['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'import'];

const NAMED: Record<string, NamedFormat> = {
  'pve-vmid': (v) => fail(/^[1-9][0-9]{2,8}$/.test(v), 'value does not look like a valid VM ID'),
  'pve-node': (v) => fail(/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(v), 'value does not look like a valid node name'),
  'pve-storage-id': (v) => fail(STORAGE_ID.test(v), `storage ID '${v}' contains illegal characters`),
  'pve-configid': (v) => fail(/^[a-z][a-z0-9_-]+$/i.test(v), `invalid configuration ID '${v}'`),
  'pve-poolid': (v) => fail(/^[A-Za-z0-9_-]+$/.test(v), `pool name '${v}' contains illegal characters`),
  urlencoded: (v) => fail(/^[-%a-zA-Z0-9_.!~*'()]*$/.test(v), `invalid urlencoded string: ${v}`),
  'dns-name': (v) => fail(DNS_NAME.test(v), 'value does not look like a valid DNS name'),
  address: (v) => fail(IPV4.test(v) || isIpv6(v) || DNS_NAME.test(v), `value does not look like a valid address: ${v}`),
  ip: (v) => fail(IPV4.test(v) || isIpv6(v), 'value does not look like a valid IP address'),
  ipv4: (v) => fail(IPV4.test(v), 'value does not look like a valid IPv4 address'),
  ipv6: (v) => fail(isIpv6(v), 'value does not look like a valid IPv6 address'),
  CIDR: (v) => fail(cidr(v, (s) => IPV4.test(s), 8, 32) || cidr(v, isIpv6, 8, 128), 'value does not look like a valid CIDR network'),
  'pve-ipv4-config': (v) => fail(/^(dhcp|manual)$/.test(v) || cidr(v, (s) => IPV4.test(s), 8, 32), 'value does not look like a valid ipv4 network configuration'),
  'pve-ipv6-config': (v) => fail(/^(auto|dhcp|manual)$/.test(v) || cidr(v, isIpv6, 8, 128), 'value does not look like a valid ipv6 network configuration'),
  'pve-volume-id': volumeId,
  'pve-volume-id-or-qm-path': (v) => (v === 'none' || v === 'cdrom' || v.startsWith('/') ? undefined : volumeId(v)),
  'pve-volume-id-or-absolute-path': (v) => (v.startsWith('/') ? undefined : volumeId(v)),
  'pve-bridge-id': (v) => fail(/^[-_.\w\d]+$/.test(v), `invalid bridge ID '${v}'`),
  'mac-addr': (v) => fail(/^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/i.test(v), 'value does not look like a valid unicast MAC address'),
  'disk-size': (v) => fail(/^\d+(\.\d+)?[KMGT]?$/.test(v), `value does not look like a valid disk size: ${v}`),
  'pve-tag': (v) => fail(/^[a-z0-9_][a-z0-9_\-+.]*$/i.test(v), `invalid tag '${v}'`),
  'pve-storage-content': (v) => fail(STORAGE_CONTENT.includes(v), `invalid content type '${v}'`),
  'pve-qm-bootdisk': (v) => fail(/^(ide|sata|scsi|virtio)\d+$/.test(v), `invalid boot disk '${v}'`),
  'pve-qm-bootdev': (v) => fail(BOOT_DEVICE.test(v), `invalid boot device '${v}'`),
  'pve-startup-order': (v) => fail(v.split(',').every((p) => /^((order=)?\d+|up=\d+|down=\d+)$/.test(p)), 'unable to parse startup options'),
  'pve-qm-ipconfig': {
    ip: { type: 'string', format: 'pve-ipv4-config', optional: 1 },
    gw: { type: 'string', format: 'ipv4', optional: 1 },
    ip6: { type: 'string', format: 'pve-ipv6-config', optional: 1 },
    gw6: { type: 'string', format: 'ipv6', optional: 1 },
  },
  'pve-qm-boot': {
    order: { type: 'string', format: 'pve-qm-bootdev-list', optional: 1 },
    legacy: { type: 'string', pattern: '[acdn]{1,4}', optional: 1 },
  },
  // Approximation: PVE also checks cputype against its list of CPU models and custom models.
  'pve-vm-cpu-conf': {
    cputype: { type: 'string', pattern: '(custom-)?[A-Za-z0-9_.+-]+', default_key: 1, optional: 1 },
    flags: { type: 'string', pattern: '[+-][a-zA-Z0-9\\-_.]+(;[+-][a-zA-Z0-9\\-_.]+)*', optional: 1 },
    hidden: { type: 'boolean', optional: 1 },
    'hv-vendor-id': { type: 'string', pattern: '[a-zA-Z0-9]{1,12}', optional: 1 },
    'phys-bits': { type: 'string', pattern: '(8|9|[1-5]\\d|6[0-4]|host)', optional: 1 },
    'reported-model': { type: 'string', optional: 1 },
  },
  'pve-qm-cicustom': {
    meta: { type: 'string', format: 'pve-volume-id', optional: 1 },
    network: { type: 'string', format: 'pve-volume-id', optional: 1 },
    user: { type: 'string', format: 'pve-volume-id', optional: 1 },
    vendor: { type: 'string', format: 'pve-volume-id', optional: 1 },
  },
};
NAMED['address-list'] = (v) => splitList(v).map((a) => (NAMED.address as (s: string) => string | undefined)(a)).find(Boolean);
NAMED['pve-tag-list'] = (v) => splitList(v).map((t) => (NAMED['pve-tag'] as (s: string) => string | undefined)(t)).find(Boolean);
