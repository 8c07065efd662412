// spec.bmc.address: the scheme selects the driver; everything else is parsed and checked here so a typo is reported
// in the host's status instead of surfacing as a confusing network error.
import { isIP } from 'node:net';
import { PowerError } from './driver.js';

export type RedfishAuth = 'auto' | 'session' | 'basic';

export type BmcAddress =
  | { scheme: 'ipmi'; host: string; port: number; cipherSuite: number }
  | { scheme: 'redfish'; origin: string; systemPath: string | undefined; auth: RedfishAuth }
  | { scheme: 'wol'; broadcast: string; port: number }
  | { scheme: 'proxmox'; node: string; vmid: number };

export const ADDRESS_FORMATS = [
  'ipmi://host[:port][?cipherSuite=N]',
  'redfish://host[:port][/redfish/v1/Systems/<id>][?auth=session|basic]',
  'redfish+http://host[:port][/redfish/v1/Systems/<id>]',
  'wol://[broadcast-address][:port]',
  'proxmox://<node>/<vmid>',
];

const invalid = (address: string, why: string): PowerError =>
  new PowerError('InvalidConfig', `spec.bmc.address "${address}" ${why}; expected one of ${ADDRESS_FORMATS.join(', ')}`);

function parsePort(address: string, url: URL, fallback: number): number {
  if (!url.port) return fallback;
  const port = Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(address, `has an invalid port "${url.port}"`);
  return port;
}

function onlyParams(address: string, url: URL, allowed: string[]): void {
  for (const key of url.searchParams.keys()) {
    if (!allowed.includes(key)) throw invalid(address, `has an unknown parameter "${key}"${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`);
  }
}

const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

export function parseBmcAddress(address: string): BmcAddress {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(address);
  if (!m) throw invalid(address, 'has no scheme');
  const scheme = m[1]!.toLowerCase();
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw invalid(address, 'is not a valid URL');
  }
  if (url.username || url.password) throw invalid(address, 'contains credentials; put them in the Secret named by spec.bmc.credentialsSecretRef');
  switch (scheme) {
    case 'ipmi': {
      if (!url.hostname) throw invalid(address, 'has no host');
      if (url.pathname && url.pathname !== '/') throw invalid(address, `has a path "${url.pathname}" (IPMI addresses have none)`);
      onlyParams(address, url, ['cipherSuite']);
      const cs = url.searchParams.get('cipherSuite') ?? '3';
      if (!/^\d{1,2}$/.test(cs) || Number(cs) > 17) throw invalid(address, `has an invalid cipherSuite "${cs}" (0-17)`);
      return { scheme: 'ipmi', host: hostOf(url), port: parsePort(address, url, 623), cipherSuite: Number(cs) };
    }
    case 'redfish':
    case 'redfish+http': {
      if (!url.hostname) throw invalid(address, 'has no host');
      onlyParams(address, url, ['auth']);
      const auth = url.searchParams.get('auth') ?? 'auto';
      if (auth !== 'auto' && auth !== 'session' && auth !== 'basic') throw invalid(address, `has an invalid auth "${auth}" (session or basic)`);
      const path = url.pathname.replace(/\/+$/, '');
      if (path && !/^\/redfish\/v1\/Systems\/[^/]+$/.test(path)) throw invalid(address, `has path "${url.pathname}", which is not /redfish/v1/Systems/<id>`);
      const protocol = scheme === 'redfish' ? 'https:' : 'http:';
      const port = parsePort(address, url, scheme === 'redfish' ? 443 : 80);
      const host = url.hostname;
      return { scheme: 'redfish', origin: `${protocol}//${host}:${port}`, systemPath: path || undefined, auth };
    }
    case 'wol': {
      onlyParams(address, url, []);
      if (url.pathname && url.pathname !== '/') throw invalid(address, `has a path "${url.pathname}"`);
      const broadcast = url.hostname ? hostOf(url) : '255.255.255.255';
      if (isIP(broadcast) !== 4) throw invalid(address, `has "${broadcast}" as broadcast address; give an IPv4 address such as 192.168.1.255`);
      return { scheme: 'wol', broadcast, port: parsePort(address, url, 9) };
    }
    case 'proxmox': {
      onlyParams(address, url, []);
      const node = url.hostname;
      const vmid = url.pathname.replace(/^\/+|\/+$/g, '');
      if (!node) throw invalid(address, 'has no node name');
      if (!/^\d+$/.test(vmid) || Number(vmid) < 100 || Number(vmid) > 999_999_999) throw invalid(address, `has "${vmid}" as VM id (an integer from 100)`);
      return { scheme: 'proxmox', node, vmid: Number(vmid) };
    }
    default:
      throw invalid(address, `has the unknown scheme "${scheme}"`);
  }
}
