// The Proxmox VE API transport: PVEAPIToken authentication, TLS with a CA bundle (or explicitly insecure),
// form-encoded parameters, PVE's {"data": ...} envelope and error shapes mapped to ProxmoxError. ProxmoxClient
// (client.ts) builds the API's calls on it.
import { Agent, fetch, type Dispatcher } from 'undici';
import type { Logger } from '@anvil/core/logging';
import { errorFromNetwork, errorFromResponse, ProxmoxError } from './errors.js';
import type { PveParams } from './ports.js';

export interface ProxmoxClientOptions {
  /** API base URL, e.g. https://pve1.example.com:8006 (a trailing /api2/json is accepted). */
  url: string;
  node: string;
  /** API token as USER@REALM!TOKENID=SECRET. */
  token: string;
  /** PEM CA bundle that signs the API certificate. */
  ca?: string;
  /** Skip certificate verification (labs only). */
  insecureSkipTLSVerify?: boolean;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  logger?: Logger;
  /** Used instead of creating an undici Agent (tests). */
  dispatcher?: Dispatcher;
}

/** USER@REALM!TOKENID=SECRET, as PVE shows it when the token is created. */
const TOKEN_RE = /^([^\s@!=:]+@[A-Za-z][A-Za-z0-9.\-_]*)!([A-Za-z][A-Za-z0-9.\-_]*)=(\S+)$/;

/** Checks the token's shape; the error message never contains the secret. */
export function parseApiToken(token: string): { user: string; tokenId: string; fullTokenId: string } {
  const m = TOKEN_RE.exec(token.trim());
  if (!m) {
    throw new ProxmoxError({
      code: 'auth',
      status: 0,
      pveMessage: 'the API token must look like USER@REALM!TOKENID=SECRET (e.g. anvil@pve!builder=xxxxxxxx-xxxx-...)',
      transient: false,
    });
  }
  return { user: m[1]!, tokenId: m[2]!, fullTokenId: `${m[1]}!${m[2]}` };
}

/** Normalizes the base URL to end in /api2/json. */
export function apiBase(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/api2/json') ? trimmed : `${trimmed}/api2/json`;
}

function encodeValue(v: string | number | boolean): string {
  return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
}

function formOf(params: PveParams): URLSearchParams {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) form.append(k, encodeValue(v));
  return form;
}

/** One authenticated connection to the API of a PVE cluster. */
export class PveHttp {
  private readonly base: string;
  private readonly authorization: string;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly options: ProxmoxClientOptions) {
    parseApiToken(options.token);
    this.base = apiBase(options.url);
    this.authorization = `PVEAPIToken=${options.token.trim()}`;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    if (options.dispatcher) this.dispatcher = options.dispatcher;
    else if (this.base.startsWith('https:') && (options.ca || options.insecureSkipTLSVerify)) {
      this.dispatcher = new Agent({
        connect: options.insecureSkipTLSVerify ? { rejectUnauthorized: false } : { ca: options.ca, rejectUnauthorized: true },
      });
    }
  }

  /** Closes the connection pool this client created. */
  async close(): Promise<void> {
    if (this.dispatcher && !this.options.dispatcher) await this.dispatcher.close();
  }

  /**
   * One API call. Path is relative to /api2/json and already encoded; GET/DELETE parameters go into the query,
   * POST/PUT parameters into a form body. Returns the `data` member (and `total` when PVE sends one).
   */
  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, params: PveParams = {}): Promise<{ data: T; total?: number }> {
    const form = formOf(params);
    const query = method === 'GET' || method === 'DELETE' ? form.toString() : '';
    const url = `${this.base}${path}${query ? `?${query}` : ''}`;
    const request = `${method} ${path}`;
    const headers: Record<string, string> = { Authorization: this.authorization, Accept: 'application/json' };
    let body: string | undefined;
    if (method === 'POST' || method === 'PUT') {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = form.toString();
    }
    let res: Awaited<ReturnType<typeof fetch>>;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
      });
      text = await res.text();
    } catch (err) {
      throw errorFromNetwork(err, request);
    }
    let parsed: { data?: unknown; errors?: Record<string, string>; message?: string; total?: number } | undefined;
    try {
      parsed = text ? (JSON.parse(text) as typeof parsed) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const message = (typeof parsed?.message === 'string' && parsed.message) || res.statusText || `HTTP ${res.status}`;
      const err = errorFromResponse(res.status, message, parsed?.errors, request);
      this.options.logger?.debug({ request, status: res.status, code: err.code }, 'PVE API call failed');
      throw err;
    }
    if (!parsed || !('data' in parsed)) {
      throw new ProxmoxError({ code: 'unavailable', status: res.status, pveMessage: 'answer is not PVE JSON ({"data": ...})', request, transient: true });
    }
    return { data: parsed.data as T, ...(typeof parsed.total === 'number' ? { total: parsed.total } : {}) };
  }
}
