// The Proxmox VE API adapter: PVEAPIToken authentication, TLS with a CA bundle (or explicitly insecure),
// form-encoded parameters, PVE's {"data": ...} envelope and error shapes mapped to ProxmoxError.
import { Agent, fetch, type Dispatcher } from 'undici';
import type { Logger } from '../../../shared/src/logging.js';
import { errorFromNetwork, errorFromResponse, ProxmoxError, ProxmoxTaskError } from './errors.js';
import type {
  CloneVmOptions,
  DeleteVmOptions,
  DownloadUrlRequest,
  PowerAction,
  ProxmoxApi,
  PveParams,
  PveVersion,
  StorageVolume,
  TaskLogLine,
  TaskResult,
  TaskStatus,
  VmConfig,
  VmListEntry,
  VmStatus,
  WaitOptions,
} from './ports.js';
import { isUpid } from './upid.js';

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

const asBool = (v: unknown): boolean => v === 1 || v === '1' || v === true;
const asInt = (v: unknown): number => (typeof v === 'number' ? v : parseInt(String(v), 10));

export class ProxmoxClient implements ProxmoxApi {
  readonly node: string;
  private readonly base: string;
  private readonly authorization: string;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly options: ProxmoxClientOptions) {
    parseApiToken(options.token);
    this.node = options.node;
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

  private nodePath(suffix: string): string {
    return `/nodes/${encodeURIComponent(this.node)}${suffix}`;
  }

  private async upidOf(method: 'POST' | 'PUT' | 'DELETE', path: string, params: PveParams = {}): Promise<string> {
    const { data } = await this.call<unknown>(method, path, params);
    if (!isUpid(data)) {
      throw new ProxmoxError({ code: 'other', status: 200, pveMessage: `expected a task UPID, got ${JSON.stringify(data)}`, request: `${method} ${path}`, transient: false });
    }
    return data;
  }

  async version(): Promise<PveVersion> {
    return (await this.call<PveVersion>('GET', '/version')).data;
  }

  async nextId(): Promise<number> {
    // PVE answers with a string ("100") although the schema says integer.
    return asInt((await this.call<string | number>('GET', '/cluster/nextid')).data);
  }

  async isVmidFree(vmid: number): Promise<boolean> {
    try {
      await this.call('GET', '/cluster/nextid', { vmid });
      return true;
    } catch (err) {
      if (err instanceof ProxmoxError && err.status === 400 && err.paramErrors.vmid) return false;
      throw err;
    }
  }

  async listVms(): Promise<VmListEntry[]> {
    const { data } = await this.call<Array<Record<string, unknown>>>('GET', this.nodePath('/qemu'));
    return data.map((v) => ({
      vmid: asInt(v.vmid),
      status: String(v.status ?? ''),
      template: asBool(v.template),
      ...(v.name !== undefined ? { name: String(v.name) } : {}),
      ...(v.tags !== undefined ? { tags: String(v.tags) } : {}),
      ...(v.lock !== undefined ? { lock: String(v.lock) } : {}),
    }));
  }

  async getVmConfig(vmid: number): Promise<VmConfig | undefined> {
    try {
      return (await this.call<VmConfig>('GET', this.nodePath(`/qemu/${vmid}/config`))).data;
    } catch (err) {
      if (err instanceof ProxmoxError && err.code === 'not-found') return undefined;
      throw err;
    }
  }

  createVm(params: PveParams): Promise<string> {
    return this.upidOf('POST', this.nodePath('/qemu'), params);
  }

  updateVmConfigAsync(vmid: number, params: PveParams): Promise<string> {
    return this.upidOf('POST', this.nodePath(`/qemu/${vmid}/config`), params);
  }

  async updateVmConfig(vmid: number, params: PveParams): Promise<void> {
    await this.call('PUT', this.nodePath(`/qemu/${vmid}/config`), params);
  }

  resizeDisk(vmid: number, disk: string, size: string): Promise<string> {
    return this.upidOf('PUT', this.nodePath(`/qemu/${vmid}/resize`), { disk, size });
  }

  convertToTemplate(vmid: number): Promise<string> {
    return this.upidOf('POST', this.nodePath(`/qemu/${vmid}/template`));
  }

  cloneVm(vmid: number, newid: number, options: CloneVmOptions = {}): Promise<string> {
    return this.upidOf('POST', this.nodePath(`/qemu/${vmid}/clone`), { newid, ...options });
  }

  deleteVm(vmid: number, options: DeleteVmOptions = {}): Promise<string> {
    return this.upidOf('DELETE', this.nodePath(`/qemu/${vmid}`), {
      purge: options.purge,
      'destroy-unreferenced-disks': options.destroyUnreferencedDisks,
      skiplock: options.skiplock,
    });
  }

  async vmStatus(vmid: number): Promise<VmStatus> {
    const { data } = await this.call<Record<string, unknown>>('GET', this.nodePath(`/qemu/${vmid}/status/current`));
    return {
      vmid: asInt(data.vmid ?? vmid),
      status: data.status === 'running' ? 'running' : 'stopped',
      template: asBool(data.template),
      ...(data.qmpstatus !== undefined ? { qmpstatus: String(data.qmpstatus) } : {}),
      ...(data.name !== undefined ? { name: String(data.name) } : {}),
      ...(data.lock !== undefined ? { lock: String(data.lock) } : {}),
      ...(data.uptime !== undefined ? { uptime: asInt(data.uptime) } : {}),
    };
  }

  powerAction(vmid: number, action: PowerAction, extra: PveParams = {}): Promise<string> {
    return this.upidOf('POST', this.nodePath(`/qemu/${vmid}/status/${action}`), extra);
  }

  downloadUrl(r: DownloadUrlRequest): Promise<string> {
    return this.upidOf('POST', this.nodePath(`/storage/${encodeURIComponent(r.storage)}/download-url`), {
      url: r.url,
      filename: r.filename,
      content: r.content,
      checksum: r.checksum,
      'checksum-algorithm': r.checksum ? r.checksumAlgorithm ?? 'sha256' : undefined,
      'verify-certificates': r.verifyCertificates,
    });
  }

  deleteVolume(storage: string, volid: string): Promise<string> {
    return this.upidOf('DELETE', this.nodePath(`/storage/${encodeURIComponent(storage)}/content/${encodeURIComponent(volid)}`));
  }

  async listStorageContent(storage: string, content?: string): Promise<StorageVolume[]> {
    const { data } = await this.call<Array<Record<string, unknown>>>('GET', this.nodePath(`/storage/${encodeURIComponent(storage)}/content`), { content });
    return data.map((v) => ({
      volid: String(v.volid),
      format: String(v.format ?? ''),
      size: asInt(v.size ?? 0),
      ...(v.content !== undefined ? { content: String(v.content) } : {}),
      ...(v.vmid !== undefined ? { vmid: asInt(v.vmid) } : {}),
      ...(v.ctime !== undefined ? { ctime: asInt(v.ctime) } : {}),
    }));
  }

  async taskStatus(upid: string): Promise<TaskStatus> {
    return (await this.call<TaskStatus>('GET', this.nodePath(`/tasks/${encodeURIComponent(upid)}/status`))).data;
  }

  async taskLog(upid: string, start = 0, limit = 50): Promise<{ lines: TaskLogLine[]; total: number }> {
    const { data, total } = await this.call<TaskLogLine[]>('GET', this.nodePath(`/tasks/${encodeURIComponent(upid)}/log`), { start, limit });
    return { lines: data, total: total ?? data.length };
  }

  /** The last `count` log lines (two calls: the first learns the total). */
  async taskLogTail(upid: string, count = 20): Promise<string[]> {
    const first = await this.taskLog(upid, 0, count);
    if (first.total <= count) return first.lines.map((l) => l.t);
    const rest = await this.taskLog(upid, first.total - count, count);
    return rest.lines.map((l) => l.t);
  }

  async waitForTask(upid: string, options: WaitOptions = {}): Promise<TaskResult> {
    const interval = options.intervalMs ?? 1000;
    const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    for (;;) {
      options.signal?.throwIfAborted();
      const status = await this.taskStatus(upid);
      if (status.status === 'stopped') {
        const exitStatus = status.exitstatus ?? 'unknown';
        const ok = exitStatus === 'OK' || exitStatus.startsWith('WARNINGS');
        const logTail = ok ? [] : await this.taskLogTail(upid, options.logLines ?? 20);
        return { upid, type: status.type, ok, exitStatus, logTail };
      }
      if (deadline !== undefined && Date.now() >= deadline) {
        throw new ProxmoxError({ code: 'unavailable', status: 0, pveMessage: `task ${upid} still running after ${options.timeoutMs} ms`, transient: true });
      }
      await sleep(interval, options.signal);
    }
  }

  async runTask(upid: string | Promise<string>, options?: WaitOptions): Promise<TaskResult> {
    const result = await this.waitForTask(await upid, options);
    if (!result.ok) throw new ProxmoxTaskError(result);
    return result;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
