// A UDP proxy between one or more TFTP clients and the server that drops and duplicates packets in both directions,
// deterministically (seeded PRNG). The client talks to the proxy port only; for each client ip:port the proxy uses
// its own upstream socket, and follows the server's TID change: the first packet goes to the server's listening
// port, later ones to whatever port the server last answered from.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { prng } from './tools.js';

export interface LossyProxyOptions {
  serverPort: number;
  serverHost?: string;
  seed: number;
  /** Fraction of packets dropped / duplicated, each direction. */
  drop: number;
  duplicate: number;
  /** Never drop a request packet (RRQ/WRQ): some clients wait seconds before repeating one. Default true. */
  keepRequests?: boolean;
}

export interface ProxyStats {
  toServer: { forwarded: number; dropped: number; duplicated: number };
  toClient: { forwarded: number; dropped: number; duplicated: number };
}

interface Flow {
  upstream: Socket;
  serverPort: number;
  ready: Promise<void>;
}

export class LossyProxy {
  readonly stats: ProxyStats = { toServer: { forwarded: 0, dropped: 0, duplicated: 0 }, toClient: { forwarded: 0, dropped: 0, duplicated: 0 } };
  private readonly front = createSocket('udp4');
  private readonly flows = new Map<string, Flow>();
  private readonly random: () => number;

  constructor(private readonly o: LossyProxyOptions) {
    this.random = prng(o.seed);
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.front.bind(0, '127.0.0.1', () => r()));
    this.front.on('message', (msg, rinfo) => void this.fromClient(msg, rinfo));
    return this.front.address().port;
  }

  private async flow(client: RemoteInfo): Promise<Flow> {
    const key = `${client.address}:${client.port}`;
    let f = this.flows.get(key);
    if (f) {
      await f.ready;
      return f;
    }
    const upstream = createSocket('udp4');
    f = { upstream, serverPort: this.o.serverPort, ready: new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r())) };
    this.flows.set(key, f);
    await f.ready;
    const flow = f;
    upstream.on('message', (msg, rinfo) => {
      flow.serverPort = rinfo.port; // the server's TID for this transfer
      this.relay(msg, 'toClient', (m) => this.front.send(m, client.port, client.address));
    });
    return f;
  }

  private async fromClient(msg: Buffer, rinfo: RemoteInfo): Promise<void> {
    const f = await this.flow(rinfo);
    const isRequest = msg.length >= 2 && (msg.readUInt16BE(0) === 1 || msg.readUInt16BE(0) === 2);
    this.relay(msg, 'toServer', (m) => f.upstream.send(m, f.serverPort, this.o.serverHost ?? '127.0.0.1'), isRequest && this.o.keepRequests !== false);
  }

  private relay(msg: Buffer, dir: 'toServer' | 'toClient', send: (m: Buffer) => void, keep = false): void {
    const s = this.stats[dir];
    const r = this.random();
    if (!keep && r < this.o.drop) {
      s.dropped++;
      return;
    }
    send(msg);
    s.forwarded++;
    if (this.random() < this.o.duplicate) {
      s.duplicated++;
      send(msg);
    }
  }

  async stop(): Promise<void> {
    for (const f of this.flows.values()) f.upstream.close();
    await new Promise<void>((r) => this.front.close(() => r()));
  }
}
