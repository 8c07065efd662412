// The proxyDHCP's flags (a group of the boot-server's, see ../config.ts) and the configuration they make.
import { isIPv4 } from 'node:net';
import { bool, choice, int, list, text, type FlagValues } from '@anvil/core/config';
import type { BootFiles } from './decide.js';
import { ipToInt, parsePool } from './managed/lease-table.js';

const ipv4Check = (flag: string) => (v: string) => (isIPv4(v) ? undefined : `${flag} must be an IPv4 address, got "${v}"`);
const httpURLCheck = (flag: string) => (v: string) => (/^https?:\/\/[^\s/?#]+(\/\S*)?$/.test(v) ? undefined : `${flag} must be an http(s) URL, got "${v}"`);
const fileCheck = (flag: string) => (v: string) => (/^[\x21-\x7e]{1,127}$/.test(v) ? undefined : `${flag} must be a file name of 1 to 127 printable ASCII characters, got "${v}"`);

export const PROXY_DHCP_FLAGS = {
  enabled: bool({ name: 'proxy-dhcp', env: 'PROXY_DHCP', label: 'proxy-dhcp', default: false, help: "answer PXE clients as a proxyDHCP beside the network's own DHCP server (UDP 67 and 4011); it never hands out addresses, see docs/dhcp.md" }),
  address: text({
    name: 'proxy-dhcp-address',
    env: 'PROXY_DHCP_ADDRESS',
    value: 'IPV4',
    check: ipv4Check('proxy-dhcp-address'),
    help: "this host's IPv4 address on the provisioning network: sent as server identifier and TFTP server, and offers are sent from it (so they leave by its interface); default: the host of --public-url when it is an IPv4 address",
  }),
  host: text({ name: 'proxy-dhcp-host', env: 'PROXY_DHCP_HOST', value: 'IPV4', default: '0.0.0.0', check: ipv4Check('proxy-dhcp-host'), help: 'proxyDHCP bind address; a socket bound to a unicast address gets no broadcasts' }),
  port: int({ name: 'proxy-dhcp-port', env: 'PROXY_DHCP_PORT', label: 'proxy-dhcp port', default: 67, min: 0, max: 65535, help: 'DHCP server port the proxyDHCP listens on' }),
  pxePort: int({ name: 'proxy-dhcp-pxe-port', env: 'PROXY_DHCP_PXE_PORT', label: 'proxy-dhcp pxe port', default: 4011, min: 0, max: 65535, help: 'PXE boot server port (ProxyDHCP requests of iPXE and UEFI firmware)' }),
  clientPort: int({ name: 'proxy-dhcp-client-port', env: 'PROXY_DHCP_CLIENT_PORT', label: 'proxy-dhcp client port', default: 68, min: 1, max: 65535, help: 'DHCP client port offers are sent to' }),
  broadcast: text({
    name: 'proxy-dhcp-broadcast',
    env: 'PROXY_DHCP_BROADCAST',
    value: 'IPV4',
    default: '255.255.255.255',
    check: ipv4Check('proxy-dhcp-broadcast'),
    help: "where offers are sent; UEFI firmware takes only 255.255.255.255 (see docs/dhcp.md)",
  }),
  machines: choice({ name: 'proxy-dhcp-machines', env: 'PROXY_DHCP_MACHINES', label: 'proxy-dhcp-machines', choices: ['known', 'all'], default: 'known', help: 'answer only the MACs of BareMetalHosts (known) or every PXE client (all; always with --discovery create)' }),
  uefiFile: text({ name: 'proxy-dhcp-uefi-file', env: 'PROXY_DHCP_UEFI_FILE', value: 'FILE', default: 'snponly.efi', check: fileCheck('proxy-dhcp-uefi-file'), help: 'iPXE binary for x86-64 UEFI firmware, over TFTP (snponly.efi drives the NIC through the firmware)' }),
  biosFile: text({ name: 'proxy-dhcp-bios-file', env: 'PROXY_DHCP_BIOS_FILE', value: 'FILE', default: 'undionly.kpxe', check: fileCheck('proxy-dhcp-bios-file'), help: 'iPXE binary for BIOS PXE ROMs, over TFTP' }),
  arm64File: text({ name: 'proxy-dhcp-arm64-file', env: 'PROXY_DHCP_ARM64_FILE', value: 'FILE', check: fileCheck('proxy-dhcp-arm64-file'), help: 'iPXE binary for arm64 UEFI firmware, over TFTP; unset: arm64 machines get no answer (Debian packages none)' }),
  httpBootURL: text({ name: 'proxy-dhcp-http-boot-url', env: 'PROXY_DHCP_HTTP_BOOT_URL', value: 'URL', check: httpURLCheck('proxy-dhcp-http-boot-url'), help: 'URL of an x86-64 EFI iPXE binary for UEFI HTTP boot clients; unset: they get no answer' }),
} as const;

export const MANAGED_DHCP_FLAGS = {
  pool: text({
    name: 'managed-dhcp-pool',
    env: 'MANAGED_DHCP_POOL',
    value: 'FIRST-LAST',
    help: 'hand out addresses from this range as the network\'s only DHCP server (an isolated provisioning network; needs --proxy-dhcp), hosts\' spec.bootIPAddress reserved; unset: never',
  }),
  netmask: text({ name: 'managed-dhcp-netmask', env: 'MANAGED_DHCP_NETMASK', value: 'IPV4', default: '255.255.255.0', check: ipv4Check('managed-dhcp-netmask'), help: 'subnet mask given with the addresses' }),
  router: text({ name: 'managed-dhcp-router', env: 'MANAGED_DHCP_ROUTER', value: 'IPV4', check: ipv4Check('managed-dhcp-router'), help: 'default gateway given with the addresses; unset: none' }),
  dns: list({ name: 'managed-dhcp-dns', env: 'MANAGED_DHCP_DNS', value: 'IPV4[,IPV4...]', separator: ',', check: ipv4Check('managed-dhcp-dns'), help: 'DNS servers given with the addresses' }),
  leaseSeconds: int({ name: 'managed-dhcp-lease-seconds', env: 'MANAGED_DHCP_LEASE_SECONDS', label: 'managed-dhcp lease seconds', default: 3600, min: 60, max: 7 * 86400, help: 'how long a lease lasts' }),
} as const;

export interface ManagedDhcpConfig {
  pool: { start: number; end: number };
  netmask: string;
  router: string | undefined;
  dns: string[];
  leaseSeconds: number;
}

export interface ProxyDhcpConfig {
  host: string;
  dhcpPort: number;
  pxePort: number;
  clientPort: number;
  broadcastAddress: string;
  serverAddress: string;
  answerUnknown: boolean;
  bootFiles: BootFiles;
  /** Managed DHCP: addresses too (--managed-dhcp-pool). */
  managed?: ManagedDhcpConfig;
}

/**
 * The proxyDHCP's configuration when it is on; a problem when no address to advertise is given or derivable. With
 * `discoveryCreates` (--discovery create) every PXE client is answered: an unknown machine must boot to be discovered.
 */
export function proxyDhcpConfig(values: FlagValues<typeof PROXY_DHCP_FLAGS>, publicURL: string, problems: string[], discoveryCreates = false): ProxyDhcpConfig | undefined {
  if (!values.enabled) return undefined;
  const fromURL = URL.canParse(publicURL) ? new URL(publicURL).hostname : '';
  const serverAddress = values.address ?? (isIPv4(fromURL) && !fromURL.startsWith('127.') ? fromURL : undefined);
  if (!serverAddress) problems.push('proxy-dhcp needs --proxy-dhcp-address (the IPv4 address machines reach this server at), or a --public-url whose host is that address');
  return {
    host: values.host,
    dhcpPort: values.port,
    pxePort: values.pxePort,
    clientPort: values.clientPort,
    broadcastAddress: values.broadcast,
    serverAddress: serverAddress ?? '0.0.0.0',
    answerUnknown: values.machines === 'all' || discoveryCreates,
    bootFiles: { bios: values.biosFile, uefiX64: values.uefiFile, arm64: values.arm64File, httpBootURL: values.httpBootURL },
  };
}

/** The managed DHCP's configuration when --managed-dhcp-pool is given; it needs the proxyDHCP, in the pool's subnet. */
export function managedDhcpConfig(values: FlagValues<typeof MANAGED_DHCP_FLAGS>, proxy: ProxyDhcpConfig | undefined, problems: string[]): ManagedDhcpConfig | undefined {
  if (values.pool === undefined) return undefined;
  const pool = parsePool(values.pool);
  if (typeof pool === 'string') {
    problems.push(`managed-dhcp-pool: ${pool}`);
    return undefined;
  }
  if (!proxy) {
    problems.push('managed-dhcp-pool needs --proxy-dhcp true: the managed DHCP answers on its port 67 (and PXE clients get their boot file from it)');
    return undefined;
  }
  const mask = ipToInt(values.netmask);
  const subnet = (n: number) => Number(BigInt(n) & BigInt(mask));
  if (proxy.serverAddress !== '0.0.0.0' && (subnet(pool.start) !== subnet(ipToInt(proxy.serverAddress)) || subnet(pool.end) !== subnet(ipToInt(proxy.serverAddress)))) {
    problems.push(`managed-dhcp-pool ${values.pool} is not in the subnet of ${proxy.serverAddress}/${values.netmask}`);
  }
  return { pool, netmask: values.netmask, router: values.router, dns: values.dns, leaseSeconds: values.leaseSeconds };
}
