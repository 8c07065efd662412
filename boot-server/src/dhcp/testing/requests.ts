// Requests as real PXE clients send them, built byte by byte (not with our encoder, so codec bugs cannot cancel out),
// and a check that an answer is what the PXE spec wants from a proxyDHCP. Option values follow captures of each
// client: Intel/BIOS PXE 2.1 ROMs, iPXE, EDK2/OVMF, EDK2 on arm64 and EDK2's HTTP boot.
import { DhcpOption, MessageType } from '../codes.js';
import { decodeVendorSubOptions } from '../options.js';
import { BOOTREPLY, MAGIC_COOKIE, clientMac, parseDhcp } from '../packet.js';

export interface RequestSpec {
  mac: string;
  type?: number;
  xid?: number;
  ciaddr?: string;
  giaddr?: string;
  flags?: number;
  /** Options in order, as code and value; the end option is added. */
  options: [number, Buffer | string | number[]][];
}

const bytes = (v: Buffer | string | number[]): Buffer => (Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v));
const ip = (a: string): number[] => a.split('.').map(Number);

export function rawRequest(spec: RequestSpec): Buffer {
  const head = Buffer.alloc(240);
  head[0] = 1;
  head[1] = 1;
  head[2] = 6;
  head.writeUInt32BE(spec.xid ?? 0x1234abcd, 4);
  head.writeUInt16BE(spec.flags ?? 0x8000, 10);
  Buffer.from(ip(spec.ciaddr ?? '0.0.0.0')).copy(head, 12);
  Buffer.from(ip(spec.giaddr ?? '0.0.0.0')).copy(head, 24);
  Buffer.from(spec.mac.split(':').map((h) => parseInt(h, 16))).copy(head, 28);
  head.writeUInt32BE(MAGIC_COOKIE, 236);
  const opts: Buffer[] = [Buffer.from([DhcpOption.MessageType, 1, spec.type ?? MessageType.Discover])];
  for (const [code, value] of spec.options) opts.push(Buffer.from([code, bytes(value).length]), bytes(value));
  opts.push(Buffer.from([DhcpOption.End]));
  return Buffer.concat([head, ...opts]);
}

export const UUID = Buffer.from([0, ...Buffer.from('8c3b2a10c0de4e5f9a7b6d5c4b3a2910', 'hex')]);
const PRL_FIRMWARE = [1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58, 59, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135];
const PRL_IPXE = [1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203];
/** iPXE's option 175: feature flags (PXE, HTTP, DNS, TFTP, bzImage, EFI...), each an encapsulated sub-option. */
const IPXE_FEATURES = [0xb1, 0x05, 0x01, 0x80, 0x86, 0x10, 0x0e, 0x15, 0x01, 0x01, 0x13, 0x01, 0x01, 0x11, 0x01, 0x01, 0x27, 0x01, 0x01, 0x19, 0x01, 0x01, 0x10, 0x01, 0x02, 0xeb, 0x03, 0x01, 0x00, 0x00, 0x17, 0x01, 0x01, 0x22, 0x01, 0x01];

const arch = (n: number): number[] => [n >> 8, n & 0xff];

/** The DHCPDISCOVER of each kind of client, for `mac`. */
export const clients = {
  biosPxeRom: (mac: string): Buffer =>
    rawRequest({ mac, options: [[57, [0x04, 0xec]], [55, PRL_FIRMWARE], [97, UUID], [94, [1, 2, 1]], [93, arch(0)], [60, 'PXEClient:Arch:00000:UNDI:002001']] }),
  ipxe: (mac: string): Buffer =>
    rawRequest({ mac, options: [[57, [0x05, 0xc0]], [93, arch(0)], [94, [1, 2, 1]], [60, 'PXEClient:Arch:00000:UNDI:002001'], [77, 'iPXE'], [55, PRL_IPXE], [175, IPXE_FEATURES], [61, [1, ...mac.split(':').map((h) => parseInt(h, 16))]], [97, UUID]] }),
  ovmfX64: (mac: string): Buffer =>
    rawRequest({ mac, flags: 0, options: [[57, [0x05, 0xdc]], [93, arch(7)], [94, [1, 3, 0]], [60, 'PXEClient:Arch:00007:UNDI:003000'], [55, PRL_FIRMWARE], [97, UUID]] }),
  arm64Uefi: (mac: string): Buffer =>
    rawRequest({ mac, options: [[57, [0x05, 0xdc]], [93, arch(11)], [94, [1, 3, 0]], [60, 'PXEClient:Arch:00011:UNDI:003000'], [55, PRL_FIRMWARE], [97, UUID]] }),
  httpBoot: (mac: string): Buffer =>
    rawRequest({ mac, options: [[57, [0x05, 0xdc]], [93, arch(16)], [94, [1, 3, 0]], [60, 'HTTPClient:Arch:00016:UNDI:003000'], [55, [1, 3, 6, 15, 43, 60, 66, 67]], [97, UUID]] }),
  /** iPXE's ProxyDHCPREQUEST to port 4011, once its DHCP server gave it `ciaddr`. */
  ipxeProxyRequest: (mac: string, ciaddr: string, serverId: string): Buffer =>
    rawRequest({ mac, ciaddr, flags: 0, type: MessageType.Request, options: [[54, ip(serverId)], [93, arch(0)], [60, 'PXEClient:Arch:00000:UNDI:002001'], [77, 'iPXE'], [175, IPXE_FEATURES], [97, UUID]] }),
} as const;

const LEASE_OPTIONS = [DhcpOption.SubnetMask, DhcpOption.Router, DhcpOption.DnsServer, DhcpOption.LeaseTime, DhcpOption.RenewalTime, DhcpOption.RebindingTime];

/**
 * Everything wrong with `answer` as a proxyDHCP reply to `request` from `serverAddress` (empty: well formed): it parses,
 * is a BOOTREPLY to this transaction and client, leases nothing, says PXEClient/HTTPClient, names us, echoes the UUID
 * and carries a boot file; a firmware answer also has siaddr and PXE discovery control.
 */
export function answerProblems(answer: Buffer, request: Buffer, serverAddress: string): string[] {
  const problems: string[] = [];
  const a = parseDhcp(answer);
  const r = parseDhcp(request);
  if (!a.ok) return [`answer does not parse: ${a.error.message}`];
  if (!r.ok) return [`request does not parse: ${r.error.message}`];
  const p = a.packet;
  const q = r.packet;
  const check = (ok: boolean, problem: string): void => void (ok || problems.push(problem));
  check(answer.length >= 300 && answer.length <= 576, `length ${answer.length} outside 300..576`);
  check(p.op === BOOTREPLY, `op ${p.op}`);
  check(p.xid === q.xid, 'xid differs');
  check(clientMac(p) === clientMac(q) && p.chaddr.equals(q.chaddr), 'chaddr differs');
  check(p.yiaddr === '0.0.0.0', `yiaddr ${p.yiaddr}: a proxyDHCP never offers an address`);
  check(p.giaddr === q.giaddr, 'giaddr differs');
  for (const code of LEASE_OPTIONS) check(!p.options.has(code), `carries lease option ${code}`);
  const type = p.options.get(DhcpOption.MessageType);
  check(type?.length === 1 && (type[0] === MessageType.Offer || type[0] === MessageType.Ack), 'message type is not OFFER or ACK');
  const vendor = p.options.get(DhcpOption.VendorClass)?.toString();
  check(vendor === 'PXEClient' || vendor === 'HTTPClient', `vendor class ${vendor}`);
  check(p.options.get(DhcpOption.ServerId)?.join('.') === serverAddress, 'server identifier is not ours');
  const uuid = q.options.get(DhcpOption.ClientUuid);
  if (uuid) check(p.options.get(DhcpOption.ClientUuid)?.equals(uuid) === true, 'client UUID not echoed');
  const file = p.file || p.options.get(DhcpOption.BootFileName)?.toString('latin1');
  check(!!file, 'no boot file');
  check(p.siaddr === serverAddress, `siaddr ${p.siaddr}`);
  if (vendor === 'PXEClient' && !file?.startsWith('http')) {
    const sub = p.options.get(DhcpOption.VendorSpecific);
    const decoded = sub ? decodeVendorSubOptions(sub) : undefined;
    check(decoded instanceof Map && ((decoded.get(6)?.[0] ?? 0) & 0x08) !== 0, 'no PXE discovery control with "use the boot file"');
  }
  return problems;
}
