// The read-only TFTP server: the listening socket (requests only) and the bookkeeping of live transfers. Each
// transfer runs on its own ephemeral socket (transfer.ts); the protocol decisions are in the pure modules
// (packet.ts, options.ts, filename.ts, session.ts).
//
// Mode `netascii` is accepted and served byte for byte like `octet`: iPXE and PXE ROMs always ask for octet,
// our files are binaries or LF-only scripts, converting would make `tsize` lie and could corrupt a binary a client
// asked for in the wrong mode. (tftp-hpa serves binaries the same way in practice; a netascii client converts
// CR LF back to LF on receipt, which leaves LF-only text unchanged.) `mail` and unknown modes get ERROR 4.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6, type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { silentLogger } from '@anvil/core/logging';
import { MemoryContent, openInRoot, type TftpContent } from './content.js';
import { sanitizeFilename } from './filename.js';
import { SessionLimits } from './limits.js';
import { createTftpMetrics, type TftpMetrics } from './metrics.js';
import { MTU_1500_BLKSIZE, clampLimits, negotiate, type NegotiationLimits } from './options.js';
import { ErrorCode, Opcode, decodePacket, encodeError, type ErrorCodeValue, type RequestPacket } from './packet.js';
import { Transfer } from './transfer.js';
import type { VirtualFileProvider } from './virtual-files.js';

export interface TftpServerOptions {
  /** Bind address (default 0.0.0.0; an IPv6 address makes a udp6 server). */
  host?: string;
  /** UDP port (default 69; 0 picks a free one, see address()). */
  port?: number;
  /** Directory tree served (e.g. /usr/lib/ipxe). Unset: only virtual files. A missing directory is not an error. */
  root?: string;
  /** Generated files, looked up before the directory tree. */
  virtualFiles?: VirtualFileProvider;
  /** Largest blksize agreed to (default 1468: a 1500-byte MTU). */
  maxBlksize?: number;
  /** Largest windowsize agreed to (default 64); per-transfer memory is about maxWindowsize * blksize. */
  maxWindowsize?: number;
  /** First retransmission timeout when the client does not negotiate one (default 1000 ms). */
  timeoutMs?: number;
  /** Ceiling of the retransmission timer, which doubles on each retransmission without progress (default 4000 ms). */
  maxTimeoutMs?: number;
  /** A client-requested `timeout` above this many seconds is ignored (default 255: all accepted, per RFC 2349). */
  maxClientTimeoutSeconds?: number;
  /** Retransmissions without progress before a transfer is abandoned (default 5). */
  retries?: number;
  /** Concurrent transfers; further requests get ERROR 0 "server busy" (default 256). */
  maxSessions?: number;
  /**
   * Concurrent transfers from one source address (default 16; at most maxSessions); further requests from it get
   * ERROR 0 "too many transfers from your address". A PXE machine needs one or two at a time.
   */
  maxSessionsPerClient?: number;
  /** Metrics go here; a private registry when unset. */
  registry?: Registry;
  log?: Logger;
}

export const DEFAULT_MAX_SESSIONS = 256;
export const DEFAULT_MAX_SESSIONS_PER_CLIENT = 16;

type Resolved = Required<Omit<TftpServerOptions, 'root' | 'virtualFiles' | 'registry' | 'log'>> & Pick<TftpServerOptions, 'root' | 'virtualFiles'>;

/** At most `limit` log lines per `windowMs` for noisy events (refusals, garbage); the rest are counted. */
class LogBudget {
  private windowStart = 0;
  private used = 0;
  private suppressed = 0;
  constructor(private readonly log: Logger, private readonly limit = 20, private readonly windowMs = 10_000) {}
  allow(): boolean {
    const now = Date.now();
    if (now - this.windowStart >= this.windowMs) {
      if (this.suppressed) this.log.warn({ suppressed: this.suppressed }, 'tftp: similar log lines suppressed');
      this.windowStart = now;
      this.used = 0;
      this.suppressed = 0;
    }
    if (this.used < this.limit) {
      this.used++;
      return true;
    }
    this.suppressed++;
    return false;
  }
}

export class TftpServer {
  private readonly o: Resolved;
  private readonly negotiation: NegotiationLimits;
  private readonly log: Logger;
  private readonly metrics: TftpMetrics;
  private readonly budget: LogBudget;
  private readonly socketType: 'udp4' | 'udp6';
  private socket: Socket | undefined;
  /** Live sessions by client ip:port; undefined while the request is being resolved. */
  private readonly sessions = new Map<string, Transfer | undefined>();
  /** Slots by source address; taken and given back together with `sessions` entries (open/close). */
  private readonly limits: SessionLimits;
  private stopping = false;

  constructor(options: TftpServerOptions = {}) {
    this.o = {
      host: options.host ?? '0.0.0.0',
      port: options.port ?? 69,
      root: options.root,
      virtualFiles: options.virtualFiles,
      maxBlksize: options.maxBlksize ?? MTU_1500_BLKSIZE,
      maxWindowsize: options.maxWindowsize ?? 64,
      timeoutMs: options.timeoutMs ?? 1000,
      maxClientTimeoutSeconds: options.maxClientTimeoutSeconds ?? 255,
      maxTimeoutMs: options.maxTimeoutMs ?? 4000,
      retries: options.retries ?? 5,
      maxSessions: options.maxSessions ?? DEFAULT_MAX_SESSIONS,
      maxSessionsPerClient: options.maxSessionsPerClient ?? DEFAULT_MAX_SESSIONS_PER_CLIENT,
    };
    this.limits = new SessionLimits({ maxSessions: this.o.maxSessions, maxSessionsPerClient: this.o.maxSessionsPerClient });
    this.negotiation = clampLimits({ maxBlksize: this.o.maxBlksize, maxWindowsize: this.o.maxWindowsize, defaultTimeoutMs: this.o.timeoutMs, maxClientTimeoutSeconds: this.o.maxClientTimeoutSeconds });
    this.log = options.log ?? silentLogger();
    this.metrics = createTftpMetrics(options.registry);
    this.budget = new LogBudget(this.log);
    this.socketType = isIPv6(this.o.host) ? 'udp6' : 'udp4';
  }

  async start(): Promise<AddressInfo> {
    if (this.socket) throw new Error('TFTP server already started');
    const socket = createSocket({ type: this.socketType });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: this.o.host, port: this.o.port, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => this.log.error({ err: err.message }, 'tftp listening socket error'));
    socket.on('message', (msg, rinfo) => this.onRequest(msg, rinfo));
    this.socket = socket;
    const addr = socket.address();
    this.log.info({ address: addr.address, port: addr.port, root: this.o.root ?? null, maxBlksize: this.negotiation.maxBlksize, maxWindowsize: this.negotiation.maxWindowsize, maxSessions: this.limits.maxSessions, maxSessionsPerClient: this.limits.maxSessionsPerClient }, 'tftp server listening');
    return addr;
  }

  /** The bound address (after start()). */
  address(): AddressInfo {
    if (!this.socket) throw new Error('TFTP server not started');
    return this.socket.address();
  }

  /** Transfers in progress (including requests being resolved). */
  get activeSessions(): number {
    return this.sessions.size;
  }

  /** Stops listening and ends every transfer (the clients get ERROR 0). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const socket = this.socket;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    await Promise.all([...this.sessions.values()].map((t) => t?.stop()));
    // Requests still being resolved notice `stopping` and end themselves (bounded: a hung provider must not hang us).
    for (let i = 0; i < 1000 && this.sessions.size; i++) await new Promise((r) => setTimeout(r, 5));
  }

  private reply(rinfo: RemoteInfo, code: ErrorCodeValue, message: string): void {
    if (this.stopping || !this.socket) return;
    this.socket.send(encodeError(code, message), rinfo.port, rinfo.address, () => undefined);
  }

  private refuse(rinfo: RemoteInfo, code: ErrorCodeValue, message: string, fields: Record<string, unknown>): void {
    this.metrics.transfers.inc({ result: 'error' });
    this.metrics.duration.observe({ result: 'error' }, 0);
    this.reply(rinfo, code, message);
    if (this.budget.allow()) this.log.info({ client: `${rinfo.address}:${rinfo.port}`, code, ...fields }, `tftp request refused: ${message}`);
  }

  private onRequest(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.stopping || rinfo.port === 0) return;
    const p = decodePacket(msg);
    switch (p.op) {
      case 'RRQ':
        void this.handleRead(p, msg, rinfo).catch((err: unknown) => this.log.error({ err: String(err) }, 'tftp request handling failed'));
        return;
      case 'WRQ':
        this.refuse(rinfo, ErrorCode.ACCESS_VIOLATION, 'Access violation: read-only server', { op: 'WRQ' });
        return;
      case 'invalid':
        // Never answer something that claims to be an ERROR (no error ping-pong between servers).
        if (p.opcode === Opcode.ERROR) return;
        if (this.budget.allow()) this.log.debug({ client: `${rinfo.address}:${rinfo.port}`, reason: p.reason }, 'tftp malformed request');
        this.reply(rinfo, ErrorCode.ILLEGAL_OPERATION, 'Illegal TFTP operation');
        return;
      default:
        // DATA, ACK, ERROR, OACK belong to a transfer's own port: stray ones here are ignored.
        return;
    }
  }

  private async handleRead(req: RequestPacket, raw: Buffer, rinfo: RemoteInfo): Promise<void> {
    const key = `${rinfo.address}|${rinfo.port}`;
    if (this.sessions.has(key)) {
      const live = this.sessions.get(key);
      // The same request again (retransmitted or duplicated by the network) while its transfer is live: ignored.
      if (!live || live.isSameRequest(raw)) {
        this.log.debug({ client: `${rinfo.address}:${rinfo.port}` }, 'duplicate RRQ ignored while its transfer is live');
        return;
      }
      // A different request from the same port: the client gave up on the old transfer (a PXE ROM re-requesting
      // after its tsize probe, when its ERROR is still in flight or lost). The old transfer ends quietly.
      await live.abandon();
      if (this.sessions.has(key)) return;
    }
    const admission = this.limits.admit(rinfo.address);
    if (!admission.ok) {
      this.metrics.limited.inc({ limit: admission.limit });
      if (admission.limit === 'client') this.refuse(rinfo, ErrorCode.NOT_DEFINED, 'too many transfers from your address', { maxSessionsPerClient: this.limits.maxSessionsPerClient });
      else this.refuse(rinfo, ErrorCode.NOT_DEFINED, 'server busy', { maxSessions: this.limits.maxSessions });
      return;
    }
    this.sessions.set(key, undefined);
    this.metrics.activeSessions.inc();
    let transfer: Transfer | undefined;
    try {
      transfer = await this.prepare(req, raw, rinfo, key);
    } finally {
      if (!transfer) this.close(key, rinfo.address);
    }
  }

  /** Ends the bookkeeping of a session admitted by handleRead (exactly once per admission). */
  private close(key: string, address: string): void {
    this.sessions.delete(key);
    this.limits.release(address);
    this.metrics.activeSessions.dec();
  }

  /** Resolves the request to a started transfer, or refuses it and returns undefined. */
  private async prepare(req: RequestPacket, raw: Buffer, rinfo: RemoteInfo, key: string): Promise<Transfer | undefined> {
    const rawName = req.filename.toString('latin1').slice(0, 256);
    const name = sanitizeFilename(req.filename);
    if (!name.ok) {
      this.refuse(rinfo, ErrorCode.ACCESS_VIOLATION, 'Access violation', { file: rawName, reason: name.reason });
      return undefined;
    }
    if (req.mode !== 'octet' && req.mode !== 'netascii') {
      this.refuse(rinfo, ErrorCode.ILLEGAL_OPERATION, 'Unsupported mode', { file: name.path, mode: req.mode.slice(0, 32) });
      return undefined;
    }
    let content: TftpContent | undefined;
    try {
      const generated = await this.o.virtualFiles?.get({ path: name.path, remoteAddress: rinfo.address, remotePort: rinfo.port });
      if (generated !== undefined) content = new MemoryContent(typeof generated === 'string' ? Buffer.from(generated, 'utf8') : Buffer.from(generated.buffer, generated.byteOffset, generated.byteLength));
    } catch (err) {
      this.refuse(rinfo, ErrorCode.NOT_DEFINED, 'Cannot generate file', { file: name.path, reason: String(err) });
      return undefined;
    }
    if (!content) {
      if (this.o.root === undefined) {
        this.refuse(rinfo, ErrorCode.FILE_NOT_FOUND, 'File not found', { file: name.path, reason: 'no directory served' });
        return undefined;
      }
      const opened = await openInRoot(this.o.root, name.path);
      if (!opened.ok) {
        this.refuse(rinfo, opened.code, opened.message, { file: name.path, reason: opened.reason });
        return undefined;
      }
      content = opened.content;
    }
    if (this.stopping) {
      await content.close();
      return undefined;
    }
    const negotiated = negotiate(req.options, content.size, this.negotiation);
    const transfer = new Transfer({
      socketType: this.socketType,
      bindAddress: this.o.host,
      client: { address: rinfo.address, port: rinfo.port },
      path: name.path,
      request: Buffer.from(raw),
      content,
      negotiated,
      retries: this.o.retries,
      maxTimeoutMs: this.o.maxTimeoutMs,
      log: this.log,
      metrics: this.metrics,
      onEnd: () => {
        if (this.sessions.get(key) !== transfer) return;
        this.close(key, rinfo.address);
      },
      slotsWanted: () => this.limits.underPressure(rinfo.address),
    });
    this.sessions.set(key, transfer);
    try {
      await transfer.start();
    } catch (err) {
      await content.close().catch(() => undefined);
      this.refuse(rinfo, ErrorCode.NOT_DEFINED, 'server error', { file: name.path, reason: `cannot open a transfer socket: ${String(err)}` });
      return undefined;
    }
    if (this.stopping) void transfer.stop();
    return transfer;
  }
}
