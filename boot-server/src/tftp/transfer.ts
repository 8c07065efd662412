// One read transfer on its own ephemeral UDP socket (its TID): the thin adapter around SessionMachine. Events (ACKs,
// ERRORs, timeouts) are handled one at a time, in order, so a block read never races the next ACK.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import type { TftpContent } from './content.js';
import type { TftpMetrics } from './metrics.js';
import type { Negotiated } from './options.js';
import { ErrorCode, Opcode, decodePacket, encodeDataHeader, encodeError, encodeOack } from './packet.js';
import { SessionMachine, type Step, type TransferResult } from './session.js';

export interface TransferOptions {
  socketType: 'udp4' | 'udp6';
  bindAddress: string;
  client: { address: string; port: number };
  path: string;
  content: TftpContent;
  negotiated: Negotiated;
  retries: number;
  /** Ceiling of the exponentially backed-off retransmission timer. */
  maxTimeoutMs: number;
  log: Logger;
  metrics: TftpMetrics;
  /** The request datagram that started the transfer (to tell a repeated RRQ from a new one). */
  request: Buffer;
  /** Called once, synchronously, when the transfer ends (its socket and file close right after). */
  onEnd(result: TransferResult): void;
  /** Asked at each timeout: are slots wanted, so that a session never acknowledged should end now? (limits.ts) */
  slotsWanted?(): boolean;
}

/** Events queued beyond this are dropped (UDP: the client retransmits); bounds memory under a packet flood. */
const MAX_QUEUED_EVENTS = 256;

export class Transfer {
  private readonly machine: SessionMachine;
  private readonly socket: Socket;
  private readonly started = process.hrtime.bigint();
  private readonly queue: Array<() => Promise<void>> = [];
  private draining = false;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private resolveClosed: () => void = () => undefined;
  private readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
  private bytesSent = 0;
  private retransmits = 0;

  constructor(private readonly o: TransferOptions) {
    this.machine = new SessionMachine({
      size: o.content.size,
      blksize: o.negotiated.blksize,
      windowsize: o.negotiated.windowsize,
      retries: o.retries,
      timeoutMs: o.negotiated.timeoutMs,
      maxTimeoutMs: Math.max(o.negotiated.timeoutMs, o.maxTimeoutMs),
      oack: o.negotiated.oack !== undefined,
    });
    this.socket = createSocket({ type: o.socketType });
  }

  /** Binds the transfer's socket and sends the OACK or the first window. */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.socket.once('error', onError);
      this.socket.bind({ address: this.o.bindAddress, port: 0, exclusive: true }, () => {
        this.socket.off('error', onError);
        resolve();
      });
    });
    this.socket.on('error', (err) => this.enqueue(async () => this.finish('error', false, `socket error: ${err.message}`, encodeError(ErrorCode.NOT_DEFINED, 'server error'))));
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    this.enqueue(() => this.apply(this.machine.start()));
  }

  /** True when `raw` is the very request that started this transfer (a retransmitted or duplicated RRQ). */
  isSameRequest(raw: Buffer): boolean {
    return this.o.request.equals(raw);
  }

  /** Ends the transfer quietly without telling the client: it sent a new request from the same port, so it left. */
  abandon(): Promise<void> {
    this.enqueue(async () => {
      this.machine.abort('superseded');
      await this.finish('aborted', true, 'the client sent a new request from the same port');
    }, true);
    return this.closed;
  }

  /** Ends the transfer (server stopping), telling the client. */
  stop(): Promise<void> {
    this.enqueue(async () => {
      this.machine.abort('server stopping');
      await this.finish('aborted', false, 'server stopping', encodeError(ErrorCode.NOT_DEFINED, 'server shutting down'));
    }, true);
    return this.closed;
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.ended) return;
    if (rinfo.address !== this.o.client.address || rinfo.port !== this.o.client.port) {
      // RFC 1350: a packet from another TID gets ERROR 5 and does not disturb the transfer. Never answer an ERROR.
      if (msg.length >= 2 && msg.readUInt16BE(0) !== Opcode.ERROR) this.socket.send(encodeError(ErrorCode.UNKNOWN_TID, 'Unknown transfer ID'), rinfo.port, rinfo.address, () => undefined);
      return;
    }
    const p = decodePacket(msg);
    if (p.op === 'ACK') {
      const block = p.block;
      this.enqueue(() => this.apply(this.machine.onAck(block)));
    } else if (p.op === 'ERROR') {
      const { code, message } = p;
      this.enqueue(() => this.apply(this.machine.onError(code, message)));
    } else {
      this.o.log.debug({ op: p.op, reason: p.op === 'invalid' ? p.reason : undefined }, 'ignoring unexpected packet from the client');
    }
  }

  private enqueue(event: () => Promise<void>, force = false): void {
    if (this.queue.length >= MAX_QUEUED_EVENTS && !force) return;
    this.queue.push(event);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length) {
        const event = this.queue.shift() as () => Promise<void>;
        try {
          await event();
        } catch (err) {
          this.machine.abort('internal error');
          await this.finish('error', false, `transfer failed: ${(err as Error).message}`, encodeError(ErrorCode.NOT_DEFINED, 'read error'));
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async apply(step: Step): Promise<void> {
    if (this.ended) return;
    const send = step.send;
    if (send?.kind === 'oack') {
      this.socket.send(encodeOack(this.o.negotiated.oack ?? new Map()), this.o.client.port, this.o.client.address, this.sent);
    } else if (send?.kind === 'data') {
      const { start } = this.machine.blockRange(send.first);
      const { end } = this.machine.blockRange(send.last);
      const data = await this.o.content.read(start, end);
      if (this.ended) return;
      const blksize = this.o.negotiated.blksize;
      for (let block = send.first; block <= send.last; block++) {
        const offset = (block - send.first) * blksize;
        const payload = data.subarray(offset, Math.min(offset + blksize, data.length));
        this.socket.send([encodeDataHeader(block), payload], this.o.client.port, this.o.client.address, this.sent);
      }
      this.bytesSent += data.length;
      this.o.metrics.bytesSent.inc(data.length);
    }
    if (step.reclaimed) this.o.metrics.reclaimed.inc();
    if (step.retransmitted) {
      this.retransmits += step.retransmitted;
      this.o.metrics.retransmits.inc(step.retransmitted);
    }
    if (step.timerMs !== undefined) this.arm(step.timerMs);
    if (step.done) await this.finish(step.done.result, step.done.quiet, step.done.reason);
  }

  /** Send errors (ENOBUFS, unreachable) are packet loss as far as TFTP is concerned: the timer recovers. */
  private readonly sent = (err: Error | null): void => {
    if (err && !this.ended) this.o.log.debug({ err: err.message }, 'send failed');
  };

  private arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.enqueue(() => this.apply(this.machine.onTimeout(this.machine.halfOpen && (this.o.slotsWanted?.() ?? false))));
    }, ms);
  }

  private async finish(result: TransferResult, quiet: boolean, reason: string, errorPacket?: Buffer): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const seconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    this.o.metrics.transfers.inc({ result });
    this.o.metrics.duration.observe({ result }, seconds);
    const fields = {
      file: this.o.path,
      client: `${this.o.client.address}:${this.o.client.port}`,
      result,
      size: this.o.content.size,
      bytesSent: this.bytesSent,
      blocksAcked: this.machine.acknowledged,
      blksize: this.o.negotiated.blksize,
      windowsize: this.o.negotiated.windowsize,
      retransmits: this.retransmits,
      ms: Math.round(seconds * 1000),
      reason,
    };
    this.o.onEnd(result);
    if (quiet) this.o.log.debug(fields, 'tftp transfer ended early by the client');
    else if (result === 'ok' || result === 'aborted') this.o.log.info(fields, 'tftp transfer');
    else this.o.log.warn(fields, 'tftp transfer failed');
    await (async () => {
      if (errorPacket) await new Promise<void>((resolve) => this.socket.send(errorPacket, this.o.client.port, this.o.client.address, () => resolve()));
      await new Promise<void>((resolve) => {
        try {
          this.socket.close(() => resolve());
        } catch {
          resolve();
        }
      });
      await this.o.content.close().catch(() => undefined);
    })();
    this.resolveClosed();
  }
}
