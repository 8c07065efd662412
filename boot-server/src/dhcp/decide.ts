// What the proxyDHCP answers a request, as a pure function of the request, the known MACs and the policy. A proxyDHCP
// (PXE 2.1, section 2.2.5) never leases: the network's own DHCP server hands out the address, we add only the boot
// information. Firmware gets an iPXE binary by architecture; iPXE itself (which asks again) gets the HTTP entry
// script, which is what breaks the firmware -> iPXE -> iPXE loop.
import { ClientArch, DISCOVERY_USE_BOOT_FILE, DhcpOption, MessageType, PXE_DISCOVERY_CONTROL } from './codes.js';
import { encodeVendorSubOptions, ipv4Bytes, pxeRequestInfo, type PxeRequestInfo } from './options.js';
import { BOOTREQUEST, DhcpParseError, clientMac, replyTo, type DhcpPacket } from './packet.js';

export interface ProxyDhcpPolicy {
  /** Our address: the server identifier (54) and the TFTP next-server (siaddr). */
  serverAddress: string;
  /** Where machines reach the boot-server over HTTP (its public URL); iPXE gets `<base>/boot.ipxe`. */
  httpBaseURL: string;
  /** Answer every PXE client, not only the MACs of published boot configs. */
  answerUnknown: boolean;
  bootFiles: BootFiles;
}

export interface BootFiles {
  /** Option 93 type 0 (BIOS PXE ROMs), over TFTP. */
  bios: string;
  /** Types 7 and 9 (x86-64 UEFI), over TFTP. */
  uefiX64: string;
  /** Type 11 (arm64 UEFI), over TFTP; unset: such clients get no answer. */
  arm64?: string | undefined;
  /** Type 16 (x86-64 UEFI HTTP boot): a full http(s) URL of an EFI binary; unset: no answer. */
  httpBootURL?: string | undefined;
}

/** Received on the DHCP server port (67) or the PXE boot server port (4011). */
export type Via = 'dhcp' | 'pxe';

export type IgnoreReason = 'malformed' | 'not-request' | 'not-ethernet' | 'not-pxe' | 'wrong-message' | 'other-server' | 'unknown-mac' | 'unsupported-arch';

export type ClientKind = 'firmware' | 'ipxe' | 'http-boot';

export type Decision =
  | { action: 'ignore'; reason: IgnoreReason; mac?: string; detail?: string }
  | { action: 'reply'; kind: 'offer' | 'ack'; mac: string; client: ClientKind; arch: number; bootFile: string; reply: DhcpPacket };

/** The longest boot file name the `file` field holds (one byte stays for its NUL); longer ones go in option 67. */
const FILE_FIELD_MAX = 127;
const ZERO = '0.0.0.0';

/** Option 93 when sent, else the architecture in a vendor class like "PXEClient:Arch:00007:...", else BIOS. */
export function archOf(info: PxeRequestInfo): number {
  if (info.arch !== undefined) return info.arch;
  const m = /^(?:PXE|HTTP)Client:Arch:(\d{5})/.exec(info.vendorClass ?? '');
  return m ? Number(m[1]) : ClientArch.BiosX86;
}

const isIpxe = (info: PxeRequestInfo): boolean => info.ipxeOptions || info.userClasses.includes('iPXE');

export function bootFileFor(info: PxeRequestInfo, arch: number, policy: Pick<ProxyDhcpPolicy, 'httpBaseURL' | 'bootFiles'>): { client: ClientKind; file: string } | undefined {
  if (isIpxe(info)) return { client: 'ipxe', file: `${policy.httpBaseURL}/boot.ipxe` };
  const files = policy.bootFiles;
  switch (arch) {
    case ClientArch.BiosX86:
      return { client: 'firmware', file: files.bios };
    case ClientArch.EfiX86_64:
    case ClientArch.EfiBc:
      return { client: 'firmware', file: files.uefiX64 };
    case ClientArch.EfiArm64:
      return files.arm64 ? { client: 'firmware', file: files.arm64 } : undefined;
    case ClientArch.EfiX86_64Http:
      return files.httpBootURL ? { client: 'http-boot', file: files.httpBootURL } : undefined;
    default:
      return undefined;
  }
}

export function decide(request: DhcpPacket, via: Via, isKnownMac: (mac: string) => boolean, policy: ProxyDhcpPolicy): Decision {
  if (request.op !== BOOTREQUEST) return { action: 'ignore', reason: 'not-request' };
  const info = pxeRequestInfo(request);
  if (info instanceof DhcpParseError) return { action: 'ignore', reason: 'malformed', detail: info.message };
  const mac = clientMac(request);
  if (!mac) return { action: 'ignore', reason: 'not-ethernet' };
  const vendor = info.vendorClass ?? '';
  if (!vendor.startsWith('PXEClient') && !vendor.startsWith('HTTPClient')) return { action: 'ignore', reason: 'not-pxe', mac };
  const wanted = via === 'dhcp' ? [MessageType.Discover] : [MessageType.Request, MessageType.Inform];
  if (!(wanted as number[]).includes(info.messageType)) return { action: 'ignore', reason: 'wrong-message', mac };
  if (via === 'pxe' && info.serverId !== undefined && info.serverId !== policy.serverAddress) return { action: 'ignore', reason: 'other-server', mac };
  if (!policy.answerUnknown && !isKnownMac(mac)) return { action: 'ignore', reason: 'unknown-mac', mac };
  const arch = archOf(info);
  const boot = bootFileFor(info, arch, policy);
  if (!boot) return { action: 'ignore', reason: 'unsupported-arch', mac, detail: `client architecture ${arch}` };
  if (boot.client === 'http-boot' && !vendor.startsWith('HTTPClient')) return { action: 'ignore', reason: 'not-pxe', mac, detail: 'HTTP boot architecture without vendor class HTTPClient' };
  const kind = via === 'dhcp' ? 'offer' : 'ack';
  return { action: 'reply', kind, mac, client: boot.client, arch, bootFile: boot.file, reply: proxyReply(request, info, kind, boot, policy) };
}

/** The boot options of an answer to a PXE client (also in the managed DHCP's offers), and its `file` field. */
export function bootOptions(info: PxeRequestInfo, boot: { client: ClientKind; file: string }): { options: Map<number, Buffer>; file: string } {
  const options = new Map<number, Buffer>([[DhcpOption.VendorClass, Buffer.from(boot.client === 'http-boot' ? 'HTTPClient' : 'PXEClient')]]);
  if (info.uuid) options.set(DhcpOption.ClientUuid, Buffer.from(info.uuid));
  // Without discovery control a PXE ROM may wait for a boot menu or run boot server discovery instead of loading the
  // file (PXE 2.1, table 2-1: bit 3 "download the boot file if one is given").
  if (boot.client === 'firmware') options.set(DhcpOption.VendorSpecific, encodeVendorSubOptions(new Map([[PXE_DISCOVERY_CONTROL, Buffer.from([DISCOVERY_USE_BOOT_FILE])]])));
  const fits = Buffer.byteLength(boot.file, 'latin1') <= FILE_FIELD_MAX;
  if (!fits) options.set(DhcpOption.BootFileName, Buffer.from(boot.file, 'latin1'));
  return { options, file: fits ? boot.file : '' };
}

function proxyReply(request: DhcpPacket, info: PxeRequestInfo, kind: 'offer' | 'ack', boot: { client: ClientKind; file: string }, policy: ProxyDhcpPolicy): DhcpPacket {
  const parts = bootOptions(info, boot);
  const options = new Map<number, Buffer>([
    [DhcpOption.MessageType, Buffer.from([kind === 'offer' ? MessageType.Offer : MessageType.Ack])],
    [DhcpOption.ServerId, ipv4Bytes(policy.serverAddress)],
    ...parts.options,
  ]);
  return replyTo(request, { ciaddr: kind === 'ack' ? request.ciaddr : ZERO, yiaddr: ZERO, siaddr: policy.serverAddress, file: parts.file, options });
}
