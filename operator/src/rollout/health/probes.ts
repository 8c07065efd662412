// Health probes after an install: a TCP port that accepts a connection, an HTTP(S) endpoint answering the expected
// status (and body), each bounded by a timeout. A probe never throws: every failure is a result with a message a person
// can act on.
import { connect } from 'node:net';
import { Agent, request } from 'undici';

export type HealthCheck =
  | { kind: 'tcp'; port: number }
  | { kind: 'http'; port?: number; path?: string; scheme?: 'http' | 'https'; expectStatus?: number; bodyContains?: string; insecureSkipTLSVerify?: boolean };

export interface ProbeResult {
  ok: boolean;
  message: string;
}

export const describeCheck = (c: HealthCheck): string =>
  c.kind === 'tcp' ? `tcp/${c.port}` : `${c.scheme ?? 'http'}://:${c.port ?? (c.scheme === 'https' ? 443 : 80)}${c.path ?? '/'}`;

export function probeTcp(address: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (r: ProbeResult): void => {
      socket.destroy();
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, message: `tcp/${port}: no connection within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => done({ ok: true, message: `tcp/${port}: open` }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, message: `tcp/${port}: ${err.code ?? err.message}` }));
  });
}

const MAX_BODY = 64 * 1024;

export async function probeHttp(address: string, check: Extract<HealthCheck, { kind: 'http' }>, timeoutMs: number): Promise<ProbeResult> {
  const scheme = check.scheme ?? 'http';
  const port = check.port ?? (scheme === 'https' ? 443 : 80);
  const host = address.includes(':') ? `[${address}]` : address;
  const what = describeCheck(check);
  const dispatcher = new Agent({ connect: { rejectUnauthorized: !check.insecureSkipTLSVerify, timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    const res = await request(`${scheme}://${host}:${port}${check.path ?? '/'}`, { dispatcher, signal: AbortSignal.timeout(timeoutMs) });
    let body = '';
    for await (const chunk of res.body) {
      if (body.length < MAX_BODY) body += (chunk as Buffer).toString('utf8');
    }
    const expect = check.expectStatus ?? 200;
    if (res.statusCode !== expect) return { ok: false, message: `${what}: HTTP ${res.statusCode}, expected ${expect}` };
    if (check.bodyContains !== undefined && !body.includes(check.bodyContains)) return { ok: false, message: `${what}: the body does not contain ${JSON.stringify(check.bodyContains)}` };
    return { ok: true, message: `${what}: HTTP ${res.statusCode}` };
  } catch (err) {
    const e = err as { code?: string; message?: string; name?: string };
    const why = e.name === 'TimeoutError' || e.code === 'UND_ERR_CONNECT_TIMEOUT' || e.code === 'UND_ERR_HEADERS_TIMEOUT' ? `no answer within ${timeoutMs} ms` : (e.code ?? e.message ?? String(err));
    return { ok: false, message: `${what}: ${why}` };
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}

export const probe = (address: string, check: HealthCheck, timeoutMs: number): Promise<ProbeResult> =>
  check.kind === 'tcp' ? probeTcp(address, check.port, timeoutMs) : probeHttp(address, check, timeoutMs);
