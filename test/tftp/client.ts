// A small TFTP client and a raw UDP peer for tests (not production code): the client speaks RFC 1350 + options,
// windowsize and rollover, so it can run through the lossy proxy; the raw peer sends arbitrary datagrams.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { decodePacket, encodeAck, encodeError, encodeRequest, type Decoded } from '@anvil/boot-server/src/tftp/packet.js';

export interface GetOptions {
  host?: string;
  port: number;
  file: string | Buffer;
  mode?: string;
  options?: Record<string, string | number>;
  /** Client retransmission timeout (ms) and retries. */
  timeoutMs?: number;
  retries?: number;
}

export interface GetResult {
  data: Buffer;
  oack: Record<string, string> | undefined;
  serverPort: number;
}

export class TftpClientError extends Error {
  constructor(message: string, readonly code?: number) {
    super(message);
  }
}

/** Downloads a file; rejects with TftpClientError on an ERROR packet or when the server stops answering. */
export async function tftpGet(o: GetOptions): Promise<GetResult> {
  const host = o.host ?? '127.0.0.1';
  const timeoutMs = o.timeoutMs ?? 200;
  const retries = o.retries ?? 20;
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const request = encodeRequest('RRQ', o.file, o.mode ?? 'octet', o.options ?? {});
  let blksize = 512;
  let windowsize = 1;
  let serverPort: number | undefined;
  let oack: Record<string, string> | undefined;
  const chunks: Buffer[] = [];
  let received = 0; // absolute index of the last in-order block
  let lastPacket = request;
  let lastTarget = o.port;
  let inWindow = 0;
  let tries = 0;
  try {
    return await new Promise<GetResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const arm = (): void => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          if (++tries > retries) return reject(new TftpClientError(`timeout after ${received} blocks`));
          socket.send(lastPacket, lastTarget, host);
          arm();
        }, timeoutMs);
      };
      const send = (buf: Buffer, port: number): void => {
        lastPacket = buf;
        lastTarget = port;
        socket.send(buf, port, host);
        arm();
      };
      const done = (): void => {
        if (timer) clearTimeout(timer);
        resolve({ data: Buffer.concat(chunks), oack, serverPort: serverPort as number });
      };
      socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
        if (serverPort === undefined) serverPort = rinfo.port;
        else if (rinfo.port !== serverPort) {
          socket.send(encodeError(5, 'Unknown transfer ID'), rinfo.port, host);
          return;
        }
        const p = decodePacket(msg);
        if (p.op === 'ERROR') {
          if (timer) clearTimeout(timer);
          return reject(new TftpClientError(`server error ${p.code}: ${p.message}`, p.code));
        }
        if (p.op === 'OACK') {
          if (received > 0) return;
          oack = Object.fromEntries(p.options);
          blksize = Number(oack.blksize ?? 512);
          windowsize = Number(oack.windowsize ?? 1);
          tries = 0;
          return send(encodeAck(0), serverPort);
        }
        if (p.op !== 'DATA') return;
        const expected = (received + 1) & 0xffff;
        if (p.block !== expected) {
          // A gap (block ahead), or a repeat of the last block (our ACK was lost): acknowledge the last in-order
          // block so the server resumes after it. Older duplicates are ignored.
          const ahead = ((p.block - expected) & 0xffff) < 0x8000;
          if (ahead || p.block === (received & 0xffff)) {
            inWindow = 0;
            send(encodeAck(received), serverPort);
          }
          return;
        }
        received++;
        tries = 0;
        chunks.push(Buffer.from(p.data));
        inWindow++;
        const last = p.data.length < blksize;
        if (last || inWindow >= windowsize) {
          inWindow = 0;
          send(encodeAck(received), serverPort);
        } else arm();
        if (last) done();
      });
      socket.send(request, o.port, host);
      arm();
    });
  } finally {
    socket.close();
  }
}

/** A UDP socket that sends raw datagrams and collects what comes back. */
export class RawPeer {
  readonly received: Array<{ packet: Decoded; raw: Buffer; from: number }> = [];
  private waiters: Array<() => void> = [];
  private constructor(readonly socket: Socket) {
    socket.on('message', (raw, rinfo) => {
      this.received.push({ packet: decodePacket(raw), raw, from: rinfo.port });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(): Promise<RawPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    return new RawPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(buf: Buffer, port: number): void {
    this.socket.send(buf, port, '127.0.0.1');
  }

  /** Waits until `count` packets in total have arrived (rejects after `ms`, a generous bound, not an assertion). */
  async waitFor(count: number, ms = 5000): Promise<Array<{ packet: Decoded; raw: Buffer; from: number }>> {
    const deadline = Date.now() + ms;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} packets, got ${this.received.length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received;
  }

  close(): void {
    this.socket.close();
  }
}
