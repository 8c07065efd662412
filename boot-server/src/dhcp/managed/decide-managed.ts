// What the managed DHCP server answers on port 67 (RFC 2131), for an isolated provisioning network where anvil is the
// only DHCP server: DISCOVER gets an OFFER of an address (with the boot file for a PXE client anvil answers), REQUEST
// an ACK once the lease is on disk, or a NAK for an address the client may not have; RELEASE and DECLINE free an
// address. Every client gets an address (the installers and installed systems on the network need one too); the boot
// file goes only to PXE clients the proxyDHCP rules allow.
import { DhcpOption, MessageType } from '../codes.js';
import { archOf, bootFileFor, bootOptions, type ClientKind, type ProxyDhcpPolicy } from '../decide.js';
import { ipv4Bytes, pxeRequestInfo, type PxeRequestInfo } from '../options.js';
import { BOOTREQUEST, DhcpParseError, clientMac, replyTo, type DhcpPacket } from '../packet.js';
import type { LeaseTable } from './lease-table.js';

export interface ManagedDhcpPolicy {
  netmask: string;
  router?: string | undefined;
  dns: readonly string[];
  leaseSeconds: number;
}

export type ManagedIgnoreReason = 'malformed' | 'not-request' | 'not-ethernet' | 'other-server' | 'pool-exhausted' | 'wrong-message';

export type ManagedDecision =
  | { action: 'ignore'; reason: ManagedIgnoreReason; mac?: string; detail?: string }
  | { action: 'done'; kind: 'release' | 'decline'; mac: string; address: string }
  | { action: 'reply'; kind: 'lease-offer' | 'lease-ack' | 'lease-nak'; mac: string; address: string; client?: ClientKind; bootFile?: string; reply: DhcpPacket };

const ZERO = '0.0.0.0';

function requestedAddress(request: DhcpPacket): string | undefined {
  const o = request.options.get(DhcpOption.RequestedAddress);
  if (o?.length === 4) return [...o].join('.');
  return request.ciaddr !== ZERO ? request.ciaddr : undefined;
}

/** The boot file, when the client is a PXE client the proxyDHCP rules answer. */
function bootFor(info: PxeRequestInfo, mac: string, isKnownMac: (mac: string) => boolean, proxy: ProxyDhcpPolicy): { client: ClientKind; file: string } | undefined {
  const vendor = info.vendorClass ?? '';
  if (!vendor.startsWith('PXEClient') && !vendor.startsWith('HTTPClient')) return undefined;
  if (!proxy.answerUnknown && !isKnownMac(mac)) return undefined;
  const boot = bootFileFor(info, archOf(info), proxy);
  return boot?.client === 'http-boot' && !vendor.startsWith('HTTPClient') ? undefined : boot;
}

export function decideManaged(
  request: DhcpPacket,
  table: LeaseTable,
  policy: ManagedDhcpPolicy,
  proxy: ProxyDhcpPolicy,
  isKnownMac: (mac: string) => boolean,
  now: number,
): ManagedDecision {
  if (request.op !== BOOTREQUEST) return { action: 'ignore', reason: 'not-request' };
  const info = pxeRequestInfo(request);
  if (info instanceof DhcpParseError) return { action: 'ignore', reason: 'malformed', detail: info.message };
  const mac = clientMac(request);
  if (!mac) return { action: 'ignore', reason: 'not-ethernet' };
  const ours = proxy.serverAddress;
  const asked = requestedAddress(request);

  switch (info.messageType) {
    case MessageType.Discover: {
      const address = table.offer(mac, asked, now);
      if (!address) return { action: 'ignore', reason: 'pool-exhausted', mac };
      const boot = bootFor(info, mac, isKnownMac, proxy);
      return { action: 'reply', kind: 'lease-offer', mac, address, ...bootFields(boot), reply: reply(request, info, MessageType.Offer, address, boot, policy, ours) };
    }
    case MessageType.Request: {
      // SELECTING a server that is not us: our offer lapses by itself
      if (info.serverId !== undefined && info.serverId !== ours) return { action: 'ignore', reason: 'other-server', mac };
      if (!asked) return { action: 'ignore', reason: 'malformed', mac, detail: 'a REQUEST without a requested address or ciaddr' };
      if (!table.mayHave(mac, asked, now)) return { action: 'reply', kind: 'lease-nak', mac, address: asked, reply: nak(request, ours) };
      table.commit(mac, asked, policy.leaseSeconds, now);
      const boot = bootFor(info, mac, isKnownMac, proxy);
      return { action: 'reply', kind: 'lease-ack', mac, address: asked, ...bootFields(boot), reply: reply(request, info, MessageType.Ack, asked, boot, policy, ours) };
    }
    case MessageType.Release:
      table.release(mac, request.ciaddr);
      return { action: 'done', kind: 'release', mac, address: request.ciaddr };
    case MessageType.Decline:
      if (!asked) return { action: 'ignore', reason: 'malformed', mac, detail: 'a DECLINE without option 50' };
      table.decline(mac, asked, now);
      return { action: 'done', kind: 'decline', mac, address: asked };
    default:
      return { action: 'ignore', reason: 'wrong-message', mac };
  }
}

const bootFields = (boot: { client: ClientKind; file: string } | undefined) => (boot ? { client: boot.client, bootFile: boot.file } : {});

function reply(request: DhcpPacket, info: PxeRequestInfo, type: number, address: string, boot: { client: ClientKind; file: string } | undefined, policy: ManagedDhcpPolicy, server: string): DhcpPacket {
  const options = new Map<number, Buffer>([
    [DhcpOption.MessageType, Buffer.from([type])],
    [DhcpOption.ServerId, ipv4Bytes(server)],
    [DhcpOption.LeaseTime, u32(policy.leaseSeconds)],
    [DhcpOption.RenewalTime, u32(Math.floor(policy.leaseSeconds / 2))],
    [DhcpOption.RebindingTime, u32(Math.floor((policy.leaseSeconds * 7) / 8))],
    [DhcpOption.SubnetMask, ipv4Bytes(policy.netmask)],
  ]);
  if (policy.router) options.set(DhcpOption.Router, ipv4Bytes(policy.router));
  if (policy.dns.length) options.set(DhcpOption.DnsServer, Buffer.concat(policy.dns.map(ipv4Bytes)));
  const parts = boot ? bootOptions(info, boot) : undefined;
  for (const [code, value] of parts?.options ?? []) options.set(code, value);
  return replyTo(request, { ciaddr: type === MessageType.Ack ? request.ciaddr : ZERO, yiaddr: address, siaddr: boot ? server : ZERO, file: parts?.file ?? '', options });
}

function nak(request: DhcpPacket, server: string): DhcpPacket {
  const options = new Map([
    [DhcpOption.MessageType, Buffer.from([MessageType.Nak])],
    [DhcpOption.ServerId, ipv4Bytes(server)],
  ]);
  return replyTo(request, { ciaddr: ZERO, yiaddr: ZERO, siaddr: ZERO, file: '', options });
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(Math.min(n, 0xffffffff));
  return b;
}
