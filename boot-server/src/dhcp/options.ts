// DHCP option codes and the typed reading of the options a PXE exchange uses (RFC 2132, RFC 3004, RFC 4578, PXE 2.1),
// and the PXE vendor sub-options (option 43) a proxyDHCP sends. A badly formed option of these comes back as a
// DhcpParseError value, like a badly formed packet.
import { DhcpOption } from './codes.js';
import { DhcpParseError, type DhcpPacket } from './packet.js';

/** What a PXE request says about its client, every option checked. */
export interface PxeRequestInfo {
  messageType: number;
  /** Option 60 as text, e.g. "PXEClient:Arch:00007:UNDI:003016". */
  vendorClass: string | undefined;
  /** Option 93's first (preferred) architecture. */
  arch: number | undefined;
  /** Option 77 user classes: iPXE sends the plain text "iPXE", RFC 3004 clients length-prefixed entries. */
  userClasses: string[];
  /** Option 175 present: the client is iPXE. */
  ipxeOptions: boolean;
  /** Option 97 as sent (type 0 and the 16-byte UUID), to echo back. */
  uuid: Buffer | undefined;
  /** Option 94 (UNDI version): type, major, minor. */
  ndi: { type: number; major: number; minor: number } | undefined;
  clientId: Buffer | undefined;
  serverId: string | undefined;
}

const bad = (code: number, what: string): DhcpParseError => new DhcpParseError('bad-option', `option ${code} ${what}`);

/** RFC 3004 entries (length-prefixed) when the bytes parse as such; otherwise the whole value as one class (iPXE). */
function userClasses(value: Buffer): string[] {
  const entries: string[] = [];
  let at = 0;
  while (at < value.length) {
    const length = value[at]!;
    if (length === 0 || at + 1 + length > value.length) return [value.toString('latin1')];
    entries.push(value.subarray(at + 1, at + 1 + length).toString('latin1'));
    at += 1 + length;
  }
  return entries;
}

export function pxeRequestInfo(p: DhcpPacket): PxeRequestInfo | DhcpParseError {
  const o = p.options;
  const type = o.get(DhcpOption.MessageType);
  if (!type || type.length !== 1 || type[0]! < 1 || type[0]! > 18) return bad(DhcpOption.MessageType, '(message type) is missing or not one byte of 1 to 18');
  const arch = o.get(DhcpOption.ClientArch);
  if (arch && (arch.length < 2 || arch.length % 2 !== 0)) return bad(DhcpOption.ClientArch, '(client architecture) must be a non-empty list of 16-bit types');
  const uuid = o.get(DhcpOption.ClientUuid);
  // PXE 2.1 and RFC 4578: type 0, then 16 bytes. Some firmware sends the 16 bytes alone; both are echoed as sent.
  if (uuid && !(uuid.length === 17 && uuid[0] === 0) && uuid.length !== 16) return bad(DhcpOption.ClientUuid, '(client UUID) must be type 0 and 16 bytes');
  const ndi = o.get(DhcpOption.ClientNdi);
  if (ndi && ndi.length !== 3) return bad(DhcpOption.ClientNdi, '(client network interface) must be 3 bytes');
  const serverId = o.get(DhcpOption.ServerId);
  if (serverId && serverId.length !== 4) return bad(DhcpOption.ServerId, '(server identifier) must be 4 bytes');
  const clientId = o.get(DhcpOption.ClientId);
  if (clientId && clientId.length < 2) return bad(DhcpOption.ClientId, '(client identifier) must be at least 2 bytes');
  const vendorClass = o.get(DhcpOption.VendorClass);
  if (vendorClass && vendorClass.length === 0) return bad(DhcpOption.VendorClass, '(vendor class) is empty');
  const user = o.get(DhcpOption.UserClass);
  return {
    messageType: type[0]!,
    vendorClass: vendorClass?.toString('latin1'),
    arch: arch?.readUInt16BE(0),
    userClasses: user && user.length ? userClasses(user) : [],
    ipxeOptions: o.has(DhcpOption.IpxeEncapsulated),
    uuid,
    ndi: ndi ? { type: ndi[0]!, major: ndi[1]!, minor: ndi[2]! } : undefined,
    clientId,
    serverId: serverId ? [...serverId].join('.') : undefined,
  };
}

/** Sub-options as option 43 carries them: code, length, value, ended by 255. */
export function encodeVendorSubOptions(sub: ReadonlyMap<number, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [code, value] of sub) parts.push(Buffer.from([code, value.length]), value);
  parts.push(Buffer.from([DhcpOption.End]));
  return Buffer.concat(parts);
}

/** Option 43's sub-options, or an error when one runs past the value or the end marker is missing. */
export function decodeVendorSubOptions(value: Buffer): Map<number, Buffer> | DhcpParseError {
  const sub = new Map<number, Buffer>();
  let at = 0;
  while (at < value.length) {
    const code = value[at]!;
    if (code === DhcpOption.Pad) {
      at++;
      continue;
    }
    if (code === DhcpOption.End) return sub;
    if (at + 1 >= value.length || at + 2 + value[at + 1]! > value.length) return bad(DhcpOption.VendorSpecific, `sub-option ${code} runs past the end`);
    sub.set(code, value.subarray(at + 2, at + 2 + value[at + 1]!));
    at += 2 + value[at + 1]!;
  }
  return bad(DhcpOption.VendorSpecific, 'has no end sub-option');
}

export const ipv4Bytes = (address: string): Buffer => Buffer.from(address.split('.').map(Number));
