// The proxyDHCP server: a socket on the DHCP server port (67) for DISCOVERs, answered by broadcast, and one on the PXE
// boot server port (4011) for ProxyDHCP REQUEST/INFORM, answered by unicast. Every packet is decided by decide.ts;
// whatever goes wrong with one packet is counted and dropped, never thrown.
//
// Node's dgram has no IP_PKTINFO and no SO_BINDTODEVICE: we cannot tell on which interface a broadcast came in, nor
// tie a socket to one. Broadcasts are only delivered to a socket bound to 0.0.0.0, so that one listens; answers on
// port 67 leave from a second socket bound to our own address and the same port (SO_REUSEADDR on both), because
// Linux sends a limited broadcast out of the interface that owns its source address (see docs/dhcp.md).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Counter, Registry } from 'prom-client';
import { silentLogger } from '@anvil/core/logging';
import { RateLimiter } from '../http/rate-limit.js';
import { decide, type IgnoreReason, type ProxyDhcpPolicy, type Via } from './decide.js';
import { decideManaged, type ManagedDhcpPolicy, type ManagedIgnoreReason } from './managed/decide-managed.js';
import type { LeaseTable } from './managed/lease-table.js';
import { clientMac, encodeDhcp, parseDhcp } from './packet.js';

export interface ProxyDhcpServerOptions {
  policy: ProxyDhcpPolicy;
  /** Whether a MAC belongs to a published boot config (normalised aa:bb:cc:dd:ee:ff). */
  isKnownMac: (mac: string) => boolean;
  /** Bind address of the listening sockets (default 0.0.0.0: a specific address receives no broadcasts on Linux). */
  host?: string;
  /**
   * Answers on the DHCP port are sent from a socket bound to this address (and the DHCP port), which picks the
   * interface a broadcast leaves by. Unset: from the listening socket, by the route to `broadcastAddress`.
   */
  sendFrom?: string;
  /** DHCP server port (default 67; 0 picks a free one). */
  dhcpPort?: number;
  /** PXE boot server port (default 4011; 0 picks a free one). */
  pxePort?: number;
  /** Where broadcast answers go: the client port (default 68) at `broadcastAddress` (default 255.255.255.255). */
  clientPort?: number;
  broadcastAddress?: string;
  /** Port relay agents listen on, for requests that came through one (giaddr set; default 67). */
  relayPort?: number;
  /** Answers per MAC and second (default 2) after a burst (default 10); a PXE client asks a handful of times. */
  rateLimit?: { perSecond: number; burst: number };
  /** Managed DHCP (docs/dhcp.md): port 67 hands out addresses from this table, with the boot file for PXE clients. */
  managed?: { table: LeaseTable; policy: ManagedDhcpPolicy; now?: () => number };
  registry?: Registry;
  log?: Logger;
}

const RESULTS = [
  'offer', 'ack', 'malformed', 'not_request', 'not_ethernet', 'not_pxe', 'wrong_message', 'other_server', 'unknown_mac', 'unsupported_arch', 'rate_limited', 'send_error', 'internal_error',
  // managed DHCP
  'lease_offer', 'lease_ack', 'lease_nak', 'release', 'decline', 'pool_exhausted',
] as const;
export type PacketResult = (typeof RESULTS)[number];
type Snake<S extends string> = S extends `${infer A}-${infer B}` ? `${A}_${Snake<B>}` : S;
const snake = <R extends IgnoreReason | ManagedIgnoreReason | 'lease-offer' | 'lease-ack' | 'lease-nak'>(reason: R): Snake<R> => reason.replaceAll('-', '_') as Snake<R>;
/** Results worth a warning (at most one per result and minute): the operator can do something about them. */
const WARN_RESULTS = new Set<PacketResult>(['unsupported_arch', 'send_error', 'internal_error', 'pool_exhausted']);
const WARN_INTERVAL_MS = 60_000;

export function dhcpPacketCounter(registry: Registry): Counter<'result'> {
  const name = 'anvil_dhcp_packets_total';
  const counter =
    (registry.getSingleMetric(name) as Counter<'result'> | undefined) ??
    new Counter({ name, help: 'DHCP packets the proxyDHCP received, by result: offer/ack (answered), the reason it was ignored, rate_limited, send_error or internal_error', labelNames: ['result'] as const, registers: [registry] });
  for (const result of RESULTS) counter.inc({ result }, 0);
  return counter;
}

export class ProxyDhcpServer {
  private readonly log: Logger;
  private readonly packets: Counter<'result'>;
  private readonly limiter: RateLimiter;
  private readonly lastWarned = new Map<PacketResult, number>();
  private sockets: { dhcp: Socket; pxe: Socket; answer: Socket | undefined } | undefined;

  constructor(private readonly options: ProxyDhcpServerOptions) {
    this.log = options.log ?? silentLogger();
    this.packets = dhcpPacketCounter(options.registry ?? new Registry());
    this.limiter = new RateLimiter(options.rateLimit ?? { perSecond: 2, burst: 10 });
  }

  /** Binds both sockets; rejects with the bind error (e.g. EACCES for port 67 without CAP_NET_BIND_SERVICE). */
  async start(): Promise<{ dhcpPort: number; pxePort: number }> {
    const host = this.options.host ?? '0.0.0.0';
    const bound: Socket[] = [];
    try {
      const dhcp = await this.bind('dhcp', host, this.options.dhcpPort ?? 67);
      bound.push(dhcp);
      const dhcpPort = (dhcp.address() as AddressInfo).port;
      const answer = this.options.sendFrom && this.options.sendFrom !== host ? await this.bind('dhcp', this.options.sendFrom, dhcpPort) : undefined;
      if (answer) bound.push(answer);
      // 4011 is asked by unicast to our address: bound to it, boot-servers of other networks on this host (or the demo
      // beside the tests) each get their own clients' requests, never another's
      const pxe = await this.bind('pxe', this.options.sendFrom ?? host, this.options.pxePort ?? 4011);
      this.sockets = { dhcp, pxe, answer };
      return { dhcpPort, pxePort: (pxe.address() as AddressInfo).port };
    } catch (err) {
      await Promise.all(bound.map(closeSocket));
      throw err;
    }
  }

  async stop(): Promise<void> {
    const sockets = this.sockets;
    this.sockets = undefined;
    if (sockets) await Promise.all([sockets.dhcp, sockets.pxe, sockets.answer].filter((s) => s !== undefined).map(closeSocket));
  }

  private bind(via: Via, host: string, port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      // reuseAddr: the answering socket shares the DHCP port with the listening one (unicast to our address reaches
      // the answering socket, which handles it the same way).
      const socket = createSocket({ type: 'udp4', reuseAddr: true });
      const failed = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', failed);
      socket.bind(port, host, () => {
        socket.off('error', failed);
        socket.setBroadcast(true);
        socket.on('error', (err) => this.warn('internal_error', { err, via }, 'proxyDHCP socket error'));
        socket.on('message', (msg, rinfo) => this.handle(socket, via, msg, rinfo));
        resolve(socket);
      });
    });
  }

  private handle(socket: Socket, via: Via, msg: Buffer, rinfo: RemoteInfo): void {
    try {
      const parsed = parseDhcp(msg);
      if (!parsed.ok) {
        this.count('malformed', { from: rinfo.address, via, problem: parsed.error.message });
        return;
      }
      if (via === 'dhcp' && this.options.managed) return this.handleManaged(socket, parsed.packet, rinfo, this.options.managed);
      const d = decide(parsed.packet, via, this.options.isKnownMac, this.options.policy);
      if (d.action === 'ignore') {
        this.count(snake(d.reason), { from: rinfo.address, via, mac: d.mac, detail: d.detail });
        return;
      }
      if (!this.limiter.take(d.mac)) {
        this.count('rate_limited', { mac: d.mac, via });
        return;
      }
      const wire = encodeDhcp(d.reply);
      const to = this.destination(via, d.reply.giaddr, rinfo);
      const from = via === 'dhcp' ? (this.sockets?.answer ?? socket) : socket;
      from.send(wire, to.port, to.address, (err) => {
        if (err) return this.count('send_error', { err, mac: d.mac, to });
        this.count(d.kind, { mac: d.mac, via, client: d.client, arch: d.arch, bootFile: d.bootFile, to });
      });
    } catch (err) {
      this.count('internal_error', { err, from: rinfo.address, via });
    }
  }

  private handleManaged(socket: Socket, packet: Parameters<typeof decideManaged>[0], rinfo: RemoteInfo, managed: NonNullable<ProxyDhcpServerOptions['managed']>): void {
    const mac = clientMac(packet);
    // before the decision: a REQUEST's lease is written to disk there, and a flood must not make it write
    if (mac && !this.limiter.take(mac)) return this.count('rate_limited', { mac, via: 'dhcp' });
    const d = decideManaged(packet, managed.table, managed.policy, this.options.policy, this.options.isKnownMac, managed.now?.() ?? Date.now());
    if (d.action === 'ignore') return this.count(snake(d.reason), { from: rinfo.address, via: 'dhcp', mac: d.mac, detail: d.detail });
    if (d.action === 'done') return this.count(d.kind, { mac: d.mac, address: d.address });
    const to = this.destination('dhcp', d.reply.giaddr, rinfo);
    (this.sockets?.answer ?? socket).send(encodeDhcp(d.reply), to.port, to.address, (err) => {
      if (err) return this.count('send_error', { err, mac: d.mac, to });
      this.count(snake(d.kind), { mac: d.mac, address: d.address, client: d.client, bootFile: d.bootFile, to });
    });
  }

  /** 4011: back to the sender. 67: to the relay agent when there is one, else broadcast (the client has no address yet). */
  private destination(via: Via, giaddr: string, rinfo: RemoteInfo): { address: string; port: number } {
    if (via === 'pxe') return { address: rinfo.address, port: rinfo.port };
    if (giaddr !== '0.0.0.0') return { address: giaddr, port: this.options.relayPort ?? 67 };
    return { address: this.options.broadcastAddress ?? '255.255.255.255', port: this.options.clientPort ?? 68 };
  }

  private count(result: PacketResult, fields: Record<string, unknown>): void {
    this.packets.inc({ result });
    if (WARN_RESULTS.has(result)) this.warn(result, fields, `proxyDHCP: ${result.replaceAll('_', ' ')}`);
    else this.log.debug({ result, ...fields }, 'proxyDHCP packet');
  }

  private warn(result: PacketResult, fields: Record<string, unknown>, message: string): void {
    const now = performance.now();
    const last = this.lastWarned.get(result);
    if (last !== undefined && now - last < WARN_INTERVAL_MS) return this.log.debug({ result, ...fields }, message);
    this.lastWarned.set(result, now);
    this.log.warn({ result, ...fields }, `${message} (similar lines for a minute at debug level)`);
  }
}

const closeSocket = (socket: Socket): Promise<void> => new Promise((resolve) => socket.close(() => resolve()));
