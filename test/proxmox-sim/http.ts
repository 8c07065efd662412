// The HTTP side of the simulator: request parameters (query, form or JSON body) and answers in PVE's JSON formatter
// ({"data": ...}; on errors the reason phrase carries the message and the body {"data": null, "message": ...}).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ParamErrors } from './validate.js';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Query parameters, then the body's (form-encoded or JSON; JSON booleans become PVE's 0/1). */
export async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, string>> {
  const params: Record<string, string> = {};
  for (const [k, v] of url.searchParams) params[k] = v;
  const body = await readBody(req);
  if (!body) return params;
  if (String(req.headers['content-type'] ?? '').includes('application/json')) {
    for (const [k, v] of Object.entries(JSON.parse(body) as Record<string, unknown>)) params[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  } else for (const [k, v] of new URLSearchParams(body)) params[k] = v;
  return params;
}

/** The decoded path below /api2/json (a volume id's encoded '/' becomes a path separator before routing). */
export function apiPath(pathname: string): string {
  return pathname
    .slice('/api2/json'.length)
    .split('/')
    .map((s) => decodeURIComponent(s))
    .join('/');
}

export function sendData(res: ServerResponse, data: unknown, total?: number): void {
  const body = JSON.stringify(total === undefined ? { data } : { data, total });
  res.writeHead(200, 'OK', { 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, message: string, errors?: ParamErrors): void {
  const body = JSON.stringify({ data: null, ...(errors ? { errors } : {}), message });
  res.writeHead(status, message.split('\n')[0]!.replace(/[^\x20-\x7e]/g, ' ') || 'error', {
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** An answer without a body: 401 (as pveproxy's) and 596 (the node not answering). */
export function sendBare(res: ServerResponse, status: number, reason: string): void {
  res.writeHead(status, reason);
  res.end();
}
