// A half-open session flood for the TFTP flood test and benchmark (not production code): RRQs from one source
// address, each from its own UDP port, none ever acknowledged. Each request waits for the server's first answer
// (DATA or OACK: a session was opened; ERROR: refused), then its socket closes, so the session it opened stays
// half-open on the server until the server gives it up.
import { createSocket } from 'node:dgram';
import { decodePacket, encodeRequest } from '@anvil/boot-server/src/tftp/packet.js';

export interface FloodOptions {
  /** The TFTP server. */
  host: string;
  port: number;
  /** Source address of every request (e.g. 127.0.0.2: Linux routes all of 127/8 to lo). */
  source: string;
  file: string;
  requests: number;
  /** Requests in flight at once (default 64): bounds open sockets and the server's receive queue. */
  concurrency?: number;
  /** No answer after this long: the request is sent again, up to `attempts` times (default 1000 ms, 3). */
  replyTimeoutMs?: number;
  attempts?: number;
  /** Numbers the requests (their `x-flood` option) from here, so rounds of one flood never repeat a request. */
  firstId?: number;
  /** Stops sending new requests (those in flight still finish). */
  signal?: AbortSignal;
  /** Paces the requests at this many per second at most (default: as fast as the answers come). */
  ratePerSecond?: number;
}

export interface FloodResult {
  sent: number;
  /** Requests answered with DATA or OACK: each opened a session that is never acknowledged. */
  opened: number;
  /** Requests answered with an ERROR, by its message. */
  refused: Record<string, number>;
  unanswered: number;
}

type Outcome = { kind: 'opened' } | { kind: 'refused'; message: string } | { kind: 'unanswered' };

async function oneRequest(o: FloodOptions, id: number): Promise<Outcome> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, o.source, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => undefined);
    // A distinct request each time: a port the kernel hands out again must not look like a repeated RRQ, which the
    // server ignores while the session of that ip:port is alive.
    const request = encodeRequest('RRQ', o.file, 'octet', { 'x-flood': id });
    const reply = new Promise<Outcome>((resolve) => {
      socket.on('message', (msg) => {
        const p = decodePacket(msg);
        if (p.op === 'ERROR') resolve({ kind: 'refused', message: p.message });
        else if (p.op === 'DATA' || p.op === 'OACK') resolve({ kind: 'opened' });
      });
    });
    for (let attempt = 0; attempt < (o.attempts ?? 3); attempt++) {
      socket.send(request, o.port, o.host, () => undefined);
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([reply, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), o.replyTimeoutMs ?? 1000)))]);
      clearTimeout(timer);
      if (outcome) return outcome;
    }
    return { kind: 'unanswered' };
  } finally {
    socket.close();
  }
}

/** Sends `requests` RRQs, `concurrency` at a time, and counts the answers. */
export async function flood(o: FloodOptions): Promise<FloodResult> {
  const result: FloodResult = { sent: 0, opened: 0, refused: {}, unanswered: 0 };
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < o.requests && !o.signal?.aborted) {
      const n = next++;
      const id = (o.firstId ?? 0) + n;
      if (o.ratePerSecond) {
        const wait = t0 + (1000 * n) / o.ratePerSecond - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      result.sent++;
      const outcome = await oneRequest(o, id);
      if (outcome.kind === 'opened') result.opened++;
      else if (outcome.kind === 'unanswered') result.unanswered++;
      else result.refused[outcome.message] = (result.refused[outcome.message] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 64) }, worker));
  return result;
}
