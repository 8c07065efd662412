// wrk (Debian's package) as the HTTP load generator: one thread, so the server under test keeps the other core.
import { exec } from './procs.js';

export interface WrkResult {
  requestsPerSec: number;
  /** Bytes per second of response (headers and body). */
  transferBytesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  socketErrors: number;
  command: string;
  output: string;
}

const UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const BYTES: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function ms(text: string | undefined): number {
  const m = /([\d.]+)(us|ms|s|m|h)/.exec(text ?? '');
  return m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
}

export async function wrk(url: string, options: { connections: number; seconds: number; threads?: number; script?: string }): Promise<WrkResult> {
  const args = ['-t', String(options.threads ?? 1), '-c', String(options.connections), '-d', `${options.seconds}s`, '--timeout', '10s', '--latency', ...(options.script ? ['-s', options.script] : []), url];
  const r = await exec('wrk', args, { timeoutMs: (options.seconds + 60) * 1000 });
  if (r.code !== 0) throw new Error(`wrk failed (${r.code}): ${r.stderr || r.stdout}`);
  const out = r.stdout;
  const transfer = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB|TB)/.exec(out);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requestsPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    transferBytesPerSec: transfer ? Number(transfer[1]) * BYTES[transfer[2]!]! : NaN,
    p50Ms: ms(/^\s+50%\s+(\S+)/m.exec(out)?.[1]),
    p99Ms: ms(/^\s+99%\s+(\S+)/m.exec(out)?.[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: errors ? errors.slice(1).reduce((n, e) => n + Number(e), 0) : 0,
    command: `wrk ${args.join(' ')}`,
    output: out,
  };
}
