// The installer load generator, in its own process: `--concurrency` installers (one keep-alive connection each, one
// host each, as many hosts as installers) post subiquity-shaped events back to back for `--seconds`. Every event is
// distinct (its timestamp; --run keeps the runs of one benchmark apart), so each one is stored. Prints one JSON line: counts, latencies, the wall-clock time
// (epoch ms) at which each accepted event was acknowledged, for the end-to-end latency to the database, and its own CPU time.
//
// The load generator shares the 2 cores with the server it measures, so it must cost little per request: node:http's
// client cost about 115-130 µs of CPU per post here, as much as the anchor server itself, and one such process could
// not post much more than 8,000 events a second, whatever the server. `--client raw` (the default) writes each request
// on its connection as one HTTP/1.1 message and reads the answer's status line, headers and Content-Length body;
// `--client node` is the node:http client used before (to compare).
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { url: { type: 'string' }, hosts: { type: 'string' }, concurrency: { type: 'string' }, seconds: { type: 'string' }, run: { type: 'string' }, client: { type: 'string' } },
});
const base = new URL(values.url!);
const hosts = JSON.parse(readFileSync(values.hosts!, 'utf8')) as Array<{ mac: string; token: string }>;
const concurrency = Number(values.concurrency);
const until = performance.now() + Number(values.seconds) * 1000;
// Events repeat names and types, so their timestamp makes them distinct: 100,000 s apart per run.
const firstTimestamp = 1_800_000_000 + Number(values.run ?? 0) * 100_000;
const NAMES = ['subiquity/Install/install/partitioning', 'subiquity/Install/install/extract', 'subiquity/Install/install/curthooks'];

/** One installer's connection: posts a JSON body to its path, resolves with the answer's status code. */
interface Poster {
  post(body: string): Promise<number>;
  close(): void;
}

/** node:http's client with a keep-alive agent (one socket per installer). */
function nodePoster(agent: Agent, path: string): Poster {
  return {
    post: (body) =>
      new Promise((resolve, reject) => {
        const req = request(`${values.url}${path}`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      }),
    close: () => undefined,
  };
}

const HEAD_END = '\r\n\r\n';
const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)\r?$/im;
const CHUNKED = /\r\ntransfer-encoding: *chunked\r?$/im;
const CONNECTION_CLOSE = /\r\nconnection: *close\r?$/im;

/** Where a chunked body that starts at `from` ends (after its last chunk), or -1 while incomplete. */
function chunkedEnd(text: string, from: number): number {
  let at = from;
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at);
    if (lineEnd < 0) return -1;
    const size = parseInt(text.slice(at, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error('malformed chunked answer');
    // The last chunk (size 0) ends with an empty trailer line.
    const next = lineEnd + 2 + size + 2;
    if (text.length < next) return -1;
    if (size === 0) return next;
    at = next;
  }
}

/**
 * A keep-alive HTTP/1.1 connection with one request in flight: the request is written as one message (the same
 * headers node:http sends), the answer read whole (status line, headers, a body of Content-Length bytes or chunked,
 * without trailers). A connection the server closes, or an answer that cannot be read, fails that post; the next one opens a
 * new connection.
 */
class RawPoster implements Poster {
  private socket: Socket | undefined;
  private received = '';
  private waiting: { resolve: (status: number) => void; reject: (err: Error) => void } | undefined;
  private readonly head: string;

  constructor(path: string) {
    this.head = `POST ${path} HTTP/1.1\r\nContent-Type: application/json\r\nHost: ${base.host}\r\nConnection: keep-alive\r\nContent-Length: `;
  }

  post(body: string): Promise<number> {
    this.socket ??= this.open();
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket!.write(`${this.head}${Buffer.byteLength(body)}${HEAD_END}${body}`);
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  private open(): Socket {
    const socket = connect({ host: base.hostname, port: Number(base.port), noDelay: true });
    socket.setEncoding('latin1');
    this.received = '';
    socket.on('data', (chunk: string) => this.onData(socket, chunk));
    const fail = (err: Error): void => {
      if (this.socket === socket) this.socket = undefined;
      this.settle()?.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
    return socket;
  }

  private settle(): RawPoster['waiting'] {
    const waiting = this.waiting;
    this.waiting = undefined;
    return waiting;
  }

  private onData(socket: Socket, chunk: string): void {
    this.received += chunk;
    const headEnd = this.received.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = this.received.slice(0, headEnd);
    const length = CONTENT_LENGTH.exec(head)?.[1];
    let end: number;
    try {
      if (length !== undefined) end = headEnd + HEAD_END.length + Number(length);
      else if (CHUNKED.test(head)) end = chunkedEnd(this.received, headEnd + HEAD_END.length);
      else throw new Error('answer without a length');
    } catch (err) {
      return void socket.destroy(err as Error);
    }
    if (end < 0 || this.received.length < end) return;
    if (this.received.length > end) return void socket.destroy(new Error('bytes after the answer'));
    const status = Number(head.slice(9, 12));
    this.received = '';
    if (CONNECTION_CLOSE.test(head)) {
      this.socket = undefined;
      socket.destroy();
    }
    this.settle()?.resolve(status);
  }
}

const agent = values.client === 'node' ? new Agent({ keepAlive: true, maxSockets: concurrency }) : undefined;
const latencies: number[] = [];
const ackedAt: number[] = [];
const statuses: Record<string, number> = {};
let seq = 0;
const t0 = performance.now();
const posters: Poster[] = [];
await Promise.all(
  Array.from({ length: concurrency }, async (_, i) => {
    const h = hosts[i % hosts.length]!;
    const path = `/webhook/${h.mac.replace(/:/g, '-')}/${h.token}`;
    const poster = agent ? nodePoster(agent, path) : new RawPoster(path);
    posters.push(poster);
    while (performance.now() < until) {
      const n = seq++;
      const event = { origin: 'curtin', name: NAMES[n % NAMES.length], event_type: n % 2 ? 'finish' : 'start', ...(n % 2 ? { result: 'SUCCESS' } : {}), timestamp: firstTimestamp + n / 1000, description: 'bench' };
      const start = performance.now();
      let status: number;
      try {
        status = await poster.post(JSON.stringify(event));
      } catch (err) {
        statuses[(err as Error).message] = (statuses[(err as Error).message] ?? 0) + 1;
        continue;
      }
      const end = performance.now();
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) {
        latencies.push(end - start);
        ackedAt.push(performance.timeOrigin + end);
      }
    }
  }),
);
const wallMs = performance.now() - t0;
for (const p of posters) p.close();
agent?.destroy();
const cpu = process.cpuUsage();
process.stdout.write(`${JSON.stringify({ accepted: latencies.length, wallMs, latencies, ackedAt, statuses, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
