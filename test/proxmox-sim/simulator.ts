// A stateful Proxmox VE API simulator for anvil's tests, driven by the real API schema (PVE 8.4 or 9.1 subset):
// every request is matched to its endpoint by path template and method, authenticated (PVEAPIToken), permission-
// checked with the schema's check expressions and per-token denials, and its parameters verified as PVE does
// (400 with the `errors` object). Calls that start work return real UPIDs of tasks that run asynchronously, take
// time, hold per-VM locks and can fail; their status and log are served like PVE's. Faults can be injected.
// Every request is recorded so a test can assert that all of them were valid against the schema.
//
// Answers use PVE's JSON formatter: {"data": ...} on success; on errors the HTTP reason phrase carries the message
// and the body is {"data": null, "message": "...\n"} plus "errors" for parameter errors. 401 answers have no body,
// as pveproxy's do (and are not delayed by 3 s here).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomInt, randomUUID } from 'node:crypto';
import { PveSchema, type HttpMethod, type PveMajor, type PveMethodInfo, type PveParameters } from './schema.js';
import { parsePropertyString, propertyFor, validateParameters, type ParamErrors } from './validate.js';
import {
  configDigest,
  defaultStorages,
  DRIVE_KEY,
  formatSize,
  GiB,
  HASH_ALGORITHMS,
  hashOf,
  parseSize,
  type SimStorage,
  type SimVm,
  type SimVolume,
  type UpstreamFile,
} from './state.js';

export interface SimToken {
  /** USER@REALM!TOKENID */
  id: string;
  secret: string;
}

export interface SimulatorOptions {
  /** Schema and /version answer: PVE 8.4 or 9.1 (default 9). */
  pveMajor?: PveMajor;
  node?: string;
  /** Default: one token anvil@pve!builder with every privilege. */
  tokens?: SimToken[];
  /** Default duration of a task (ms of real time; default 20). */
  taskDurationMs?: number;
  /** Per task type, e.g. { download: 200 }. */
  taskDurations?: Record<string, number>;
  /** How long a task or a synchronous call waits for a VM lock before "got timeout" (default 30 ms). */
  lockTimeoutMs?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** Bridges that exist on the node (default vmbr0, vmbr1). */
  bridges?: string[];
}

export interface SimRequestRecord {
  seq: number;
  method: string;
  /** Decoded path below /api2/json. */
  path: string;
  /** The schema path template, when the path matched one. */
  template?: string;
  params: Record<string, string>;
  tokenId?: string;
  status: number;
  /** Whether the endpoint is in the reference schema (false for DELETE .../qemu/{vmid} and tasks/{upid}/log). */
  schemaChecked: boolean;
  /** Parameter errors the verification found (empty when valid). */
  paramErrors: ParamErrors;
  /** Matched an endpoint and passed parameter verification. */
  valid: boolean;
  /** Set when the answer was an injected fault. */
  injected?: string;
}

export interface SimTask {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
  log: string[];
}

interface HttpFault {
  method?: string;
  /** Matches the path template or the decoded path (string: exact, RegExp: test). */
  path?: string | RegExp;
  status: number;
  message: string;
  times: number;
}

interface TaskFault {
  type: string;
  message?: string;
  times: number;
}

class SimError extends Error {
  constructor(readonly status: number, message: string, readonly errors?: ParamErrors) {
    super(message);
  }
}

const paramError = (errors: ParamErrors) => new SimError(400, 'Parameter verification failed.\n', errors);
const fail500 = (message: string) => new SimError(500, `${message}\n`);

// Endpoints anvil uses that the reference subset does not contain: implemented with PVE's real parameters, but
// NOT schema-checked against the reference (SimRequestRecord.schemaChecked is false for them).
const UNCHECKED_ENDPOINTS: Array<{ template: string; regex: RegExp; names: string[]; method: HttpMethod; info: PveMethodInfo }> = [
  {
    template: '/nodes/{node}/qemu/{vmid}',
    regex: /^\/nodes\/([^/]+)\/qemu\/([^/]+)$/,
    names: ['node', 'vmid'],
    method: 'DELETE',
    info: {
      name: 'destroy_vm',
      method: 'DELETE',
      permissions: { check: ['perm', '/vms/{vmid}', ['VM.Allocate']] },
      parameters: {
        additionalProperties: 0,
        properties: {
          node: { type: 'string', format: 'pve-node' },
          vmid: { type: 'integer', format: 'pve-vmid', minimum: 100, maximum: 999999999 },
          skiplock: { type: 'boolean', optional: 1 },
          purge: { type: 'boolean', optional: 1 },
          'destroy-unreferenced-disks': { type: 'boolean', optional: 1, default: 0 },
        },
      },
    },
  },
  {
    template: '/nodes/{node}/storage/{storage}/content/{volume}',
    // The volume id holds a '/' (local:import/x.qcow2): the client encodes it, the path is decoded before routing.
    regex: /^\/nodes\/([^/]+)\/storage\/([^/]+)\/content\/(.+)$/,
    names: ['node', 'storage', 'volume'],
    method: 'DELETE',
    info: {
      name: 'delete',
      method: 'DELETE',
      permissions: { check: ['perm', '/storage/{storage}', ['Datastore.Allocate']] },
      parameters: {
        additionalProperties: 0,
        properties: {
          node: { type: 'string', format: 'pve-node' },
          storage: { type: 'string', format: 'pve-storage-id', optional: 1 },
          volume: { type: 'string' },
          delay: { type: 'integer', minimum: 1, maximum: 30, optional: 1 },
        },
      },
    },
  },
  {
    template: '/nodes/{node}/tasks/{upid}/log',
    regex: /^\/nodes\/([^/]+)\/tasks\/([^/]+)\/log$/,
    names: ['node', 'upid'],
    method: 'GET',
    info: {
      name: 'read_task_log',
      method: 'GET',
      permissions: { user: 'all' },
      parameters: {
        additionalProperties: 0,
        properties: {
          node: { type: 'string', format: 'pve-node' },
          upid: { type: 'string' },
          start: { type: 'integer', minimum: 0, optional: 1, default: 0 },
          limit: { type: 'integer', minimum: 0, optional: 1, default: 50 },
          download: { type: 'boolean', optional: 1 },
        },
      },
    },
  },
];

const VERSIONS: Record<PveMajor, { version: string; release: string; repoid: string }> = {
  8: { version: '8.4.1', release: '8.4', repoid: '2a5fa54a8503f96d' },
  9: { version: '9.1.2', release: '9.1', repoid: '9d436f37a0ac4172' },
};

const lockMessage = (vmid: number | string) => `can't lock file '/var/lock/qemu-server/lock-${vmid}.conf' - got timeout`;
const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ProxmoxSimulator {
  readonly schema: PveSchema;
  readonly node: string;
  readonly pveMajor: PveMajor;
  readonly requests: SimRequestRecord[] = [];
  readonly storages = new Map<string, SimStorage>();
  readonly vms = new Map<number, SimVm>();
  readonly tasks = new Map<string, SimTask>();
  readonly upstream = new Map<string, UpstreamFile>();
  readonly bridges: Set<string>;
  versionInfo: { version: string; release: string; repoid: string };

  private readonly tokens = new Map<string, { secret: string; deny: Array<{ path: string; privilege: string }> }>();
  private readonly locks = new Map<number, string>();
  private readonly httpFaults: HttpFault[] = [];
  private readonly taskFaults: TaskFault[] = [];
  private readonly holds = new Map<string, { promise: Promise<void>; release: () => void }>();
  private readonly races = new Set<number>();
  private readonly durations: Record<string, number>;
  private readonly defaultDuration: number;
  private readonly lockTimeoutMs: number;
  private server: Server | undefined;
  private seq = 0;
  private pidCounter = randomInt(10_000, 3_000_000);
  private readonly bootTicks = randomInt(1_000_000, 90_000_000);
  private baseUrl = '';

  constructor(private readonly options: SimulatorOptions = {}) {
    this.pveMajor = options.pveMajor ?? 9;
    this.schema = PveSchema.load(this.pveMajor);
    this.node = options.node ?? 'pve';
    this.versionInfo = { ...VERSIONS[this.pveMajor] };
    for (const s of defaultStorages()) this.storages.set(s.id, s);
    for (const t of options.tokens ?? [{ id: 'anvil@pve!builder', secret: randomUUID() }]) this.tokens.set(t.id, { secret: t.secret, deny: [] });
    this.bridges = new Set(options.bridges ?? ['vmbr0', 'vmbr1']);
    this.durations = options.taskDurations ?? {};
    this.defaultDuration = options.taskDurationMs ?? 20;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 30;
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  async start(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.sendError(res, 500, `simulator error: ${(err as Error).message}`);
      });
    };
    this.server = this.options.tls ? createHttpsServer({ key: this.options.tls.key, cert: this.options.tls.cert }, handler) : createHttpServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    for (const h of this.holds.values()) h.release();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Base URL (scheme, host, port), as a ProxmoxTemplate's connection.url. */
  get url(): string {
    return this.baseUrl;
  }

  // --------------------------------------------------------------------------------------------- test set-up

  /** The Authorization value's token part, USER@REALM!TOKENID=SECRET. */
  token(id = [...this.tokens.keys()][0]!): string {
    const t = this.tokens.get(id);
    if (!t) throw new Error(`no token ${id}`);
    return `${id}=${t.secret}`;
  }

  addToken(id: string, secret: string = randomUUID()): string {
    this.tokens.set(id, { secret, deny: [] });
    return `${id}=${secret}`;
  }

  /** Takes a privilege away from a token on an ACL path and everything below it (e.g. '/vms', 'VM.Allocate'). */
  deny(tokenId: string, path: string, privilege: string): void {
    this.tokens.get(tokenId)!.deny.push({ path, privilege });
  }

  /** Gives back privileges taken with deny (all of them when privilege is omitted). */
  allow(tokenId: string, path: string, privilege?: string): void {
    const t = this.tokens.get(tokenId)!;
    t.deny = t.deny.filter((d) => !(d.path === path && (privilege === undefined || d.privilege === privilege)));
  }

  addStorage(storage: { id: string; type: SimStorage['type']; content: string[]; path?: string }): void {
    this.storages.set(storage.id, { ...storage, content: new Set(storage.content), volumes: new Map() });
  }

  /**
   * Publishes (or replaces, which changes its checksums) a file download-url can fetch. URLs under upstreamUrl()
   * are also served over HTTP by this server, so the operator can read checksum files from it.
   */
  setUpstreamFile(url: string, data: string | Buffer, options: { virtualSize?: number; contentType?: string } = {}): UpstreamFile {
    const file: UpstreamFile = {
      url,
      data: Buffer.isBuffer(data) ? data : Buffer.from(data),
      virtualSize: options.virtualSize ?? Math.round(2.2 * GiB),
      contentType: options.contentType ?? 'application/octet-stream',
    };
    this.upstream.set(url, file);
    return file;
  }

  removeUpstreamFile(url: string): void {
    this.upstream.delete(url);
  }

  /** A URL served by this simulator's upstream file table (`/_upstream/<path>`). */
  upstreamUrl(path: string): string {
    return `${this.baseUrl}/_upstream/${path.replace(/^\/+/, '')}`;
  }

  /** Checksum of an upstream file, as download-url computes it. */
  upstreamChecksum(url: string, algorithm = 'sha256'): string {
    const f = this.upstream.get(url);
    if (!f) throw new Error(`no upstream file ${url}`);
    return hashOf(f.data, algorithm);
  }

  /** A VM created by someone else (another tool, a person), e.g. to take a VMID. */
  createForeignVm(vmid: number, config: Record<string, string | number> = {}): void {
    this.vms.set(vmid, { vmid, config: { name: `foreign-${vmid}`, memory: '512', ...config }, status: 'stopped', qmpstatus: 'stopped' });
  }

  // ------------------------------------------------------------------------------------------ fault injection

  /** Answers the next `times` matching requests with this status (e.g. 500, 503, 596) instead of handling them. */
  failRequests(fault: { method?: string; path?: string | RegExp; status: number; message?: string; times?: number }): void {
    const defaults: Record<number, string> = { 596: 'Connection timed out', 503: 'Service Unavailable', 500: 'Internal Server Error' };
    this.httpFaults.push({ ...fault, message: fault.message ?? defaults[fault.status] ?? 'injected failure', times: fault.times ?? 1 });
  }

  /**
   * Makes the next `times` tasks of this type fail with `message`; without a message they fail with PVE's lock
   * timeout for their VMID ("can't lock file '/var/lock/qemu-server/lock-<vmid>.conf' - got timeout").
   */
  failTasks(type: string, options: { message?: string; times?: number } = {}): void {
    this.taskFaults.push({ type, message: options.message, times: options.times ?? 1 });
  }

  /** Keeps tasks of this type running (a slow download, a stuck import) until the returned function is called. */
  holdTasks(type: string): () => void {
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    const hold = { promise, release: () => { this.holds.delete(type); release(); } };
    this.holds.set(type, hold);
    return hold.release;
  }

  setTaskDuration(type: string, ms: number): void {
    this.durations[type] = ms;
  }

  /**
   * A VMID race: the next create for this VMID passes the synchronous check, then another client creates a VM with
   * the same VMID before the task takes the lock; the task fails with "VM <vmid> already exists on node '<node>'".
   */
  raceCreate(vmid: number): void {
    this.races.add(vmid);
  }

  /** Holds a VM's lock as if another task ran; calls and tasks that need it time out until released. */
  lockVm(vmid: number): () => void {
    const owner = `external-${randomUUID()}`;
    this.locks.set(vmid, owner);
    return () => {
      if (this.locks.get(vmid) === owner) this.locks.delete(vmid);
    };
  }

  // ------------------------------------------------------------------------------------------- observability

  /** Requests that did not match an endpoint or failed parameter verification. */
  invalidRequests(): SimRequestRecord[] {
    return this.requests.filter((r) => !r.valid);
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  runningTasks(): SimTask[] {
    return [...this.tasks.values()].filter((t) => t.status === 'running');
  }

  /** Resolves when no task is running (for clean test teardown). */
  async idle(): Promise<void> {
    while (this.runningTasks().length > 0) await sleep(5);
  }

  // ------------------------------------------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = (req.method ?? 'GET').toUpperCase() as HttpMethod;
    if (url.pathname.startsWith('/_upstream/') && method === 'GET') return this.serveUpstream(url, res);
    if (!url.pathname.startsWith('/api2/json/')) return this.sendError(res, 404, 'Not Found');
    const path = url.pathname
      .slice('/api2/json'.length)
      .split('/')
      .map((s) => decodeURIComponent(s))
      .join('/');
    const params: Record<string, string> = {};
    for (const [k, v] of url.searchParams) params[k] = v;
    const body = await readBody(req);
    if (body) {
      const type = String(req.headers['content-type'] ?? '');
      if (type.includes('application/json')) {
        for (const [k, v] of Object.entries(JSON.parse(body) as Record<string, unknown>)) params[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
      } else for (const [k, v] of new URLSearchParams(body)) params[k] = v;
    }
    const record: SimRequestRecord = { seq: ++this.seq, method, path, params: { ...params }, status: 0, schemaChecked: false, paramErrors: {}, valid: false };
    this.requests.push(record);
    const answer = (status: number, fn: () => void) => {
      record.status = status;
      fn();
    };

    // The endpoint and the verification of its parameters are recorded for every request, whatever the answer.
    const route = this.route(method, path);
    const allParams = { ...params, ...(route?.pathParams ?? {}) };
    if (route) {
      record.template = route.template;
      record.schemaChecked = route.schemaChecked;
      record.paramErrors = validateParameters(route.info.parameters, allParams);
      record.valid = Object.keys(record.paramErrors).length === 0;
    }

    // 1. authentication
    const tokenId = this.authenticate(req.headers.authorization);
    if (!tokenId) {
      return answer(401, () => {
        res.writeHead(401, req.headers.authorization ? 'authentication failure' : 'No ticket');
        res.end();
      });
    }
    record.tokenId = tokenId;

    // 2. endpoint lookup
    if (!route) return answer(501, () => this.sendError(res, 501, `Method '${method} ${path}' not implemented`));

    // 3. injected transport-level faults (pveproxy/the node answering 5xx/596)
    const fault = this.takeHttpFault(method, path, route.template);
    if (fault) {
      record.injected = `${fault.status} ${fault.message}`;
      return answer(fault.status, () => {
        if (fault.status === 596) {
          res.writeHead(596, fault.message);
          res.end();
        } else this.sendError(res, fault.status, fault.message);
      });
    }

    try {
      if (allParams.node !== undefined && allParams.node !== this.node) {
        throw fail500(`hostname lookup '${allParams.node}' failed - failed to get address info for: ${allParams.node}: Name or service not known`);
      }
      // 4. permissions of the schema (PVE checks them before verifying the parameters)
      const denied = this.checkPermission(route.info, allParams, tokenId);
      if (denied) throw new SimError(403, `${denied}\n`);
      // 5. parameter verification
      if (!record.valid) throw paramError(record.paramErrors);
      // 6. the handler
      const result = await this.dispatch(route.template, method, allParams, tokenId);
      answer(200, () => this.sendData(res, result.data, result.total));
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      answer(err.status, () => this.sendError(res, err.status, err.message, err.errors));
    }
  }

  private route(method: HttpMethod, path: string): { template: string; pathParams: Record<string, string>; info: PveMethodInfo; schemaChecked: boolean } | undefined {
    for (const u of UNCHECKED_ENDPOINTS) {
      const m = u.regex.exec(path);
      if (m && u.method === method) {
        const pathParams: Record<string, string> = {};
        u.names.forEach((n, i) => (pathParams[n] = m[i + 1]!));
        return { template: u.template, pathParams, info: u.info, schemaChecked: false };
      }
    }
    const match = this.schema.match(method, path);
    if (!match?.info) return undefined;
    return { template: match.template, pathParams: match.pathParams, info: match.info, schemaChecked: true };
  }

  private serveUpstream(url: URL, res: ServerResponse): void {
    const file = this.upstream.get(`${this.baseUrl}${url.pathname}`);
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': file.contentType, 'Content-Length': file.data.length });
    res.end(file.data);
  }

  private authenticate(header: string | undefined): string | undefined {
    const m = /^PVEAPIToken[= ]\s*([^\s!]+@[^\s!]+![A-Za-z][A-Za-z0-9._-]*)=(\S+)$/.exec(header ?? '');
    if (!m) return undefined;
    const t = this.tokens.get(m[1]!);
    return t && t.secret === m[2] ? m[1] : undefined;
  }

  private takeHttpFault(method: string, path: string, template: string): HttpFault | undefined {
    const i = this.httpFaults.findIndex(
      (f) =>
        (!f.method || f.method === method) &&
        (f.path === undefined || (typeof f.path === 'string' ? f.path === path || f.path === template : f.path.test(path))),
    );
    if (i < 0) return undefined;
    const f = this.httpFaults[i]!;
    if (--f.times <= 0) this.httpFaults.splice(i, 1);
    return f;
  }

  private sendData(res: ServerResponse, data: unknown, total?: number): void {
    const body = JSON.stringify(total === undefined ? { data } : { data, total });
    res.writeHead(200, 'OK', { 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  private sendError(res: ServerResponse, status: number, message: string, errors?: ParamErrors): void {
    const body = JSON.stringify({ data: null, ...(errors ? { errors } : {}), message });
    res.writeHead(status, message.split('\n')[0]!.replace(/[^\x20-\x7e]/g, ' ') || 'error', {
      'Content-Type': 'application/json;charset=UTF-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  // ---------------------------------------------------------------------------------------------- permissions

  private hasPriv(tokenId: string, path: string, privilege: string): boolean {
    const t = this.tokens.get(tokenId);
    if (!t) return false;
    return !t.deny.some(
      (d) => (d.privilege === privilege || d.privilege === '*') && (d.path === '/' || path === d.path || path.startsWith(`${d.path}/`)),
    );
  }

  /** PVE::RPCEnvironment::check_api2_permissions: undefined when allowed, otherwise the 403 message. */
  private checkPermission(info: PveMethodInfo, params: Record<string, string>, tokenId: string): string | undefined {
    const check = info.permissions?.check;
    if (!check) return undefined;
    const result = this.evalCheck(check, params, tokenId);
    if (result === true) return undefined;
    return check[0] === 'perm' && typeof result === 'string' ? result : 'Permission check failed';
  }

  private evalCheck(expr: unknown[], params: Record<string, string>, tokenId: string): true | string {
    const [op, ...rest] = expr as [string, ...unknown[]];
    if (op === 'and') {
      for (const sub of rest) {
        const r = this.evalCheck(sub as unknown[], params, tokenId);
        if (r !== true) return r;
      }
      return true;
    }
    if (op === 'or') {
      let last: string = 'Permission check failed';
      for (const sub of rest) {
        const r = this.evalCheck(sub as unknown[], params, tokenId);
        if (r === true) return true;
        last = r;
      }
      return last;
    }
    if (op === 'perm') {
      const [rawPath, privs, ...opts] = rest as [string, string[], ...unknown[]];
      const requireParam = opts.indexOf('require_param');
      if (requireParam >= 0 && params[String(opts[requireParam + 1])] === undefined) return 'Permission check failed';
      const path = rawPath.replace(/\{(\w+)\}/g, (_, n: string) => params[n] ?? '');
      if (opts.includes('any')) {
        return privs.some((p) => this.hasPriv(tokenId, path, p)) ? true : `Permission check failed (${path}, ${privs.join('|')})`;
      }
      const missing = privs.find((p) => !this.hasPriv(tokenId, path, p));
      return missing ? `Permission check failed (${path}, ${missing})` : true;
    }
    return true; // userid-param, userid-group and the like do not occur in the endpoints simulated here
  }

  private requirePriv(tokenId: string, path: string, privilege: string): void {
    if (!this.hasPriv(tokenId, path, privilege)) throw new SimError(403, `Permission check failed (${path}, ${privilege})\n`);
  }

  // ----------------------------------------------------------------------------------------------------- tasks

  private startTask(
    type: string,
    id: string,
    user: string,
    work: (log: (line: string) => void, sleepFor: () => Promise<void>) => Promise<void> | void,
    options: { lockVmid?: number; onFailure?: () => void } = {},
  ): string {
    const pid = this.pidCounter++;
    const pstart = this.bootTicks + Math.floor(process.uptime() * 100);
    const starttime = Math.floor(Date.now() / 1000);
    const upid = `UPID:${this.node}:${hex8(pid)}:${hex8(pstart)}:${hex8(starttime)}:${type}:${id}:${user}:`;
    const task: SimTask = { upid, node: this.node, pid, pstart, starttime, type, id, user, status: 'running', log: [] };
    this.tasks.set(upid, task);
    const log = (line: string) => task.log.push(line);
    const duration = this.durations[type] ?? this.defaultDuration;
    const run = async () => {
      await sleep(1);
      if (options.lockVmid !== undefined) await this.acquireLock(options.lockVmid, upid);
      const fault = this.takeTaskFault(type);
      if (fault) {
        await sleep(Math.min(duration, 5));
        throw new Error(fault.message ?? lockMessage(id || options.lockVmid || 0));
      }
      const hold = this.holds.get(type);
      if (hold) await hold.promise;
      await work(log, () => sleep(duration));
    };
    void run().then(
      () => {
        log('TASK OK');
        task.exitstatus = 'OK';
      },
      (err: unknown) => {
        const message = String((err as Error).message ?? err).replace(/\s+$/, '');
        try {
          options.onFailure?.();
        } catch {
          // cleanup is best effort, as in PVE
        }
        log(`TASK ERROR: ${message}`);
        task.exitstatus = message;
      },
    ).finally(() => {
      if (options.lockVmid !== undefined && this.locks.get(options.lockVmid) === upid) this.locks.delete(options.lockVmid);
      task.status = 'stopped';
    });
    return upid;
  }

  private async acquireLock(vmid: number, owner: string): Promise<void> {
    const deadline = Date.now() + this.lockTimeoutMs;
    while (this.locks.has(vmid) && this.locks.get(vmid) !== owner) {
      if (Date.now() >= deadline) throw new Error(lockMessage(vmid));
      await sleep(2);
    }
    this.locks.set(vmid, owner);
  }

  /** For synchronous calls that take the VM lock (PUT config). */
  private async withLock<T>(vmid: number, fn: () => T): Promise<T> {
    const owner = `sync-${randomUUID()}`;
    try {
      await this.acquireLock(vmid, owner);
    } catch (err) {
      throw fail500((err as Error).message);
    }
    try {
      return fn();
    } finally {
      if (this.locks.get(vmid) === owner) this.locks.delete(vmid);
    }
  }

  private takeTaskFault(type: string): TaskFault | undefined {
    const i = this.taskFaults.findIndex((f) => f.type === type);
    if (i < 0) return undefined;
    const f = this.taskFaults[i]!;
    if (--f.times <= 0) this.taskFaults.splice(i, 1);
    return f;
  }

  // -------------------------------------------------------------------------------------------------- handlers

  private async dispatch(template: string, method: HttpMethod, p: Record<string, string>, tokenId: string): Promise<{ data: unknown; total?: number }> {
    const vmid = p.vmid !== undefined ? Number(p.vmid) : NaN;
    const key = `${method} ${template}`;
    switch (key) {
      case 'GET /version':
        return { data: { ...this.versionInfo } };
      case 'GET /cluster/nextid':
        return { data: this.nextId(p.vmid) };
      case 'GET /nodes/{node}/qemu':
        return { data: this.listVms(tokenId) };
      case 'POST /nodes/{node}/qemu':
        return { data: this.createVm(p, tokenId) };
      case 'GET /nodes/{node}/qemu/{vmid}/config':
        return { data: { ...this.vm(vmid).config, digest: configDigest(this.vm(vmid).config) } };
      case 'POST /nodes/{node}/qemu/{vmid}/config':
        return { data: this.updateConfigAsync(vmid, p, tokenId) };
      case 'PUT /nodes/{node}/qemu/{vmid}/config':
        await this.withLock(vmid, () => this.applyConfig(vmid, p, tokenId));
        return { data: null };
      case 'PUT /nodes/{node}/qemu/{vmid}/resize':
        return { data: this.resize(vmid, p.disk!, p.size!, tokenId) };
      case 'POST /nodes/{node}/qemu/{vmid}/template':
        return { data: this.template(vmid, tokenId) };
      case 'POST /nodes/{node}/qemu/{vmid}/clone':
        return { data: this.clone(vmid, p, tokenId) };
      case 'DELETE /nodes/{node}/qemu/{vmid}':
        return { data: this.destroy(vmid, p, tokenId) };
      case 'GET /nodes/{node}/qemu/{vmid}/status':
        this.vm(vmid);
        return { data: ['current', 'start', 'stop', 'shutdown', 'reboot', 'reset', 'suspend', 'resume'].map((subdir) => ({ subdir })) };
      case 'GET /nodes/{node}/qemu/{vmid}/status/current':
        return { data: this.statusCurrent(vmid) };
      case 'POST /nodes/{node}/storage/{storage}/download-url':
        return { data: this.downloadUrl(p, tokenId) };
      case 'GET /nodes/{node}/storage/{storage}/content':
        return { data: this.listContent(p.storage!, p.content, p.vmid) };
      case 'DELETE /nodes/{node}/storage/{storage}/content/{volume}':
        return { data: this.deleteVolume(p.storage!, p.volume!, tokenId) };
      case 'GET /nodes/{node}/tasks/{upid}/status':
        return { data: this.taskStatus(p.upid!, tokenId) };
      case 'GET /nodes/{node}/tasks/{upid}/log':
        return this.taskLog(p.upid!, Number(p.start ?? 0), Number(p.limit ?? 50), tokenId);
    }
    const power = /^POST \/nodes\/\{node\}\/qemu\/\{vmid\}\/status\/(start|stop|shutdown|reboot|reset|suspend|resume)$/.exec(key);
    if (power) return { data: this.power(vmid, power[1]!, p, tokenId) };
    throw new SimError(501, `Method '${method} ${template}' not implemented in the simulator\n`);
  }

  private vm(vmid: number): SimVm {
    const vm = this.vms.get(vmid);
    if (!vm) throw fail500(`Configuration file 'nodes/${this.node}/qemu-server/${vmid}.conf' does not exist`);
    return vm;
  }

  private storage(id: string): SimStorage {
    const s = this.storages.get(id);
    if (!s) throw fail500(`storage '${id}' does not exist`);
    return s;
  }

  private nextId(requested: string | undefined): string {
    if (requested !== undefined) {
      if (this.vms.has(Number(requested))) throw paramError({ vmid: `VM ${requested} already exists` });
      return requested;
    }
    for (let i = 100; i < 1_000_000; i++) if (!this.vms.has(i)) return String(i);
    throw fail500('unable to get any free VMID');
  }

  private listVms(tokenId: string): unknown[] {
    return [...this.vms.values()]
      .filter((vm) => this.hasPriv(tokenId, `/vms/${vm.vmid}`, 'VM.Audit'))
      .map((vm) => ({
        vmid: vm.vmid,
        name: vm.config.name,
        status: vm.status,
        ...(vm.config.template ? { template: 1 } : {}),
        ...(vm.config.tags !== undefined ? { tags: vm.config.tags } : {}),
        ...(vm.config.lock !== undefined ? { lock: vm.config.lock } : {}),
        cpus: Number(vm.config.cores ?? 1) * Number(vm.config.sockets ?? 1),
        maxmem: memoryMiB(vm) * 1024 * 1024,
        maxdisk: this.rootDiskSize(vm),
        uptime: vm.startedAt ? Math.floor((Date.now() - vm.startedAt) / 1000) : 0,
      }));
  }

  private rootDiskSize(vm: SimVm): number {
    const key = Object.keys(vm.config).find((k) => DRIVE_KEY.test(k) && !String(vm.config[k]).includes('media=cdrom'));
    const size = key ? /(?:^|,)size=([^,]+)/.exec(String(vm.config[key]))?.[1] : undefined;
    return size ? parseSize(size) ?? 0 : 0;
  }

  private statusCurrent(vmid: number): unknown {
    const vm = this.vm(vmid);
    return {
      vmid,
      name: vm.config.name,
      status: vm.status,
      qmpstatus: vm.qmpstatus,
      cpus: Number(vm.config.cores ?? 1) * Number(vm.config.sockets ?? 1),
      maxmem: memoryMiB(vm) * 1024 * 1024,
      maxdisk: this.rootDiskSize(vm),
      uptime: vm.startedAt ? Math.floor((Date.now() - vm.startedAt) / 1000) : 0,
      ...(vm.config.template ? { template: 1 } : {}),
      ...(/^(1|enabled=1)/.test(String(vm.config.agent ?? '')) ? { agent: 1 } : {}),
      ...(vm.config.lock !== undefined ? { lock: vm.config.lock } : {}),
      ha: { managed: 0 },
    };
  }

  /** The typed value PVE returns for an option: numbers for integer/number/boolean options. */
  private typed(key: string, value: string): string | number {
    const prop = propertyFor(this.schema.match('POST', '/nodes/x/qemu')!.info!.parameters.properties ?? {}, key);
    return prop && ['integer', 'number', 'boolean'].includes(String(prop.type)) ? Number(value) : value;
  }

  /** Checks disk parameters synchronously (as PVE does before forking) and returns the allocation plan. */
  private planDrives(vmid: number, p: Record<string, string>, tokenId: string, parameters: PveParameters): Array<{ key: string; run: (log: (l: string) => void) => string }> {
    const plan: Array<{ key: string; run: (log: (l: string) => void) => string }> = [];
    const props = parameters.properties ?? {};
    for (const [key, value] of Object.entries(p)) {
      if (!DRIVE_KEY.test(key)) continue;
      const format = propertyFor(props, key)?.format;
      if (typeof format !== 'object') continue;
      const drive = parsePropertyString(format, value);
      const file = drive.file ?? '';
      const rest = value.split(',').filter((part) => part.includes('=') && !part.startsWith('file=') && !part.startsWith('import-from=') && !part.startsWith('size='));
      const vol = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i.exec(file);
      if (!vol || file === 'none' || file === 'cdrom' || file.startsWith('/')) {
        plan.push({ key, run: () => value });
        continue;
      }
      const [, storeId, volname] = vol as unknown as [string, string, string];
      const storage = this.storage(storeId);
      if (volname === 'cloudinit') {
        this.requirePriv(tokenId, `/storage/${storeId}`, 'Datastore.AllocateSpace');
        if (!storage.content.has('images')) throw fail500(`storage '${storeId}' does not support content-type 'images'`);
        plan.push({
          key,
          run: (log) => {
            const volid = `${storeId}:vm-${vmid}-cloudinit`;
            storage.volumes.set(volid, { volid, storage: storeId, content: 'images', format: 'raw', size: 4 * 1024 * 1024, vmid, ctime: now() });
            log(`  Logical volume "vm-${vmid}-cloudinit" created.`);
            log(`${key}: successfully created disk '${volid},media=cdrom'`);
            return [`${volid}`, 'media=cdrom', ...rest.filter((r) => !r.startsWith('media='))].join(',');
          },
        });
        continue;
      }
      if (/^\d+(\.\d+)?$/.test(volname)) {
        const importFrom = drive['import-from'];
        const sizeGiB = Number(volname);
        if (importFrom !== undefined && sizeGiB !== 0) {
          throw paramError({ [key]: "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>" });
        }
        this.requirePriv(tokenId, `/storage/${storeId}`, 'Datastore.AllocateSpace');
        if (!storage.content.has('images')) throw fail500(`storage '${storeId}' does not support content-type 'images'`);
        // PVE sizes EFI vars and TPM state disks itself, whatever size the request names.
        let size = key === 'efidisk0' ? (drive.efitype === '4m' ? 4 * 1024 * 1024 : 128 * 1024) : key === 'tpmstate0' ? 4 * 1024 * 1024 : sizeGiB * GiB;
        let source: SimVolume | undefined;
        if (importFrom !== undefined) {
          if (importFrom.startsWith('/')) throw new SimError(403, 'Permission check failed (only root can pass arbitrary filesystem paths)\n');
          const src = /^([^:]+):/.exec(importFrom)?.[1] ?? '';
          const srcStorage = this.storage(src);
          this.requirePriv(tokenId, `/storage/${src}`, 'Datastore.Audit');
          source = srcStorage.volumes.get(importFrom);
          if (!source) throw fail500(`volume '${importFrom}' does not exist`);
          size = source.size;
        } else if (sizeGiB === 0) {
          throw paramError({ [key]: 'disk size 0 requires import-from (simulator message)' });
        }
        plan.push({
          key,
          run: (log) => {
            const n = nextDiskIndex(storage, vmid);
            const volid = `${storeId}:vm-${vmid}-disk-${n}`;
            storage.volumes.set(volid, { volid, storage: storeId, content: 'images', format: 'raw', size, vmid, ctime: now() });
            if (source) {
              log(`importing disk '${source.volid}' to VM ${vmid} ...`);
              log(`  Logical volume "vm-${vmid}-disk-${n}" created.`);
              log(`transferred 0.0 B of ${human(size)} (0.00%)`);
              log(`transferred ${human(size)} of ${human(size)} (100.00%)`);
            }
            const entry = [volid, ...rest, `size=${formatSize(size)}`].join(',');
            log(`${key}: successfully created disk '${entry}'`);
            return entry;
          },
        });
        continue;
      }
      if (!storage.volumes.has(file)) throw fail500(`volume '${file}' does not exist`);
      plan.push({ key, run: () => value });
    }
    return plan;
  }

  private createVm(p: Record<string, string>, tokenId: string): string {
    const vmid = Number(p.vmid);
    this.requirePriv(tokenId, `/vms/${vmid}`, 'VM.Allocate');
    if (this.vms.has(vmid)) throw fail500(`unable to create VM ${vmid}: config file already exists`);
    for (const [key, value] of Object.entries(p)) {
      if (!/^net\d+$/.test(key)) continue;
      const bridge = /(?:^|,)bridge=([^,]+)/.exec(value)?.[1];
      if (bridge) this.requirePriv(tokenId, `/sdn/zones/localnetwork/${bridge}`, 'SDN.Use');
    }
    const plan = this.planDrives(vmid, p, tokenId, this.schema.match('POST', `/nodes/${this.node}/qemu`)!.info!.parameters);
    const race = this.races.delete(vmid);
    return this.startTask(
      'qmcreate',
      String(vmid),
      tokenId,
      async (log, wait) => {
        if (race) this.createForeignVm(vmid);
        if (this.vms.has(vmid)) throw new Error(`VM ${vmid} already exists on node '${this.node}'`);
        const vm: SimVm = { vmid, config: { lock: 'create' }, status: 'stopped', qmpstatus: 'stopped' };
        this.vms.set(vmid, vm);
        await wait();
        const config: Record<string, string | number> = {};
        for (const [k, v] of Object.entries(p)) {
          if (['node', 'vmid', 'start', 'storage', 'import-working-storage', 'pool', 'force', 'unique', 'archive', 'bwlimit', 'live-restore', 'ha-managed'].includes(k)) continue;
          config[k] = this.typed(k, v);
        }
        for (const step of plan) config[step.key] = step.run(log);
        if (config.cipassword !== undefined) config.cipassword = '**********';
        config.smbios1 ??= `uuid=${randomUUID()}`;
        config.vmgenid ??= randomUUID();
        config.meta = `creation-qemu=9.2.0,ctime=${now()}`;
        vm.config = config;
      },
      { lockVmid: vmid, onFailure: () => this.cleanupFailedCreate(vmid) },
    );
  }

  /** PVE::API2::Storage::Content delete: an `imgdel` worker; a volume that belongs to a VM is refused. */
  private deleteVolume(storeId: string, volume: string, tokenId: string): string {
    const volid = volume.includes(':') ? volume : `${storeId}:${volume}`;
    const storage = this.storage(volid.split(':')[0]!);
    const vol = storage.volumes.get(volid);
    if (!vol) throw fail500(`volume '${volid}' does not exist`);
    if (vol.vmid !== undefined && this.vms.has(vol.vmid)) throw fail500(`unable to delete '${volid}' - volume is in use by VM ${vol.vmid}`);
    // PVE forks this worker without an id (fork_worker('imgdel', undef, ...)): the UPID's id field is empty.
    return this.startTask('imgdel', '', tokenId, () => {
      storage.volumes.delete(volid);
    });
  }

  private cleanupFailedCreate(vmid: number): void {
    const vm = this.vms.get(vmid);
    if (!vm || vm.config.lock !== 'create') return; // someone else's VM (race): leave it
    for (const s of this.storages.values()) for (const [volid, v] of s.volumes) if (v.vmid === vmid) s.volumes.delete(volid);
    this.vms.delete(vmid);
  }

  private applyConfig(vmid: number, p: Record<string, string>, tokenId: string): void {
    const vm = this.vm(vmid);
    if (vm.config.lock !== undefined && p.skiplock !== '1') throw fail500(`VM ${vmid} is locked (${vm.config.lock})`);
    if (p.digest && p.digest !== configDigest(vm.config)) throw fail500('detected modified configuration - file changed by other user? Try again.');
    const plan = this.planDrives(vmid, p, tokenId, this.schema.match('PUT', `/nodes/${this.node}/qemu/${vmid}/config`)!.info!.parameters);
    for (const key of (p.delete ?? '').split(/[,;\s]+/).filter(Boolean)) delete vm.config[key];
    for (const [k, v] of Object.entries(p)) {
      if (['node', 'vmid', 'delete', 'digest', 'skiplock', 'revert', 'force', 'background_delay'].includes(k) || DRIVE_KEY.test(k)) continue;
      vm.config[k] = k === 'cipassword' ? '**********' : this.typed(k, v);
    }
    for (const step of plan) vm.config[step.key] = step.run(() => undefined);
  }

  private updateConfigAsync(vmid: number, p: Record<string, string>, tokenId: string): string {
    this.vm(vmid);
    return this.startTask('qmconfig', String(vmid), tokenId, async (_log, wait) => {
      await wait();
      this.applyConfig(vmid, { ...p, skiplock: '1' }, tokenId);
    }, { lockVmid: vmid });
  }

  private resize(vmid: number, disk: string, size: string, tokenId: string): string {
    this.vm(vmid);
    return this.startTask('resize', String(vmid), tokenId, async (log, wait) => {
      const vm = this.vm(vmid);
      const value = vm.config[disk];
      if (value === undefined) throw new Error(`disk '${disk}' does not exist`);
      if (String(value).includes('media=cdrom')) throw new Error("you can't resize a cdrom");
      const current = parseSize(/(?:^|,)size=([^,]+)/.exec(String(value))?.[1] ?? '0') ?? 0;
      const relative = size.startsWith('+');
      const amount = parseSize(size.replace(/^\+/, ''));
      if (amount === undefined) throw new Error(`invalid size '${size}'`);
      const target = relative ? current + amount : amount;
      if (target < current) throw new Error('shrinking disks is not supported');
      await wait();
      const volid = String(value).split(',')[0]!;
      const vol = this.storages.get(volid.split(':')[0]!)?.volumes.get(volid);
      if (vol) vol.size = target;
      vm.config[disk] = String(value).replace(/(^|,)size=[^,]+/, `$1size=${formatSize(target)}`);
      log(`  Size of logical volume pve/${volid.split(':')[1]} changed from ${human(current)} to ${human(target)}.`);
      log(`  Logical volume pve/${volid.split(':')[1]} successfully resized.`);
    }, { lockVmid: vmid });
  }

  private template(vmid: number, tokenId: string): string {
    const vm = this.vm(vmid);
    if (vm.config.template) throw fail500("you can't convert a template to a template");
    if (vm.status === 'running') throw fail500("you can't convert a VM to template if VM is running");
    return this.startTask('qmtemplate', String(vmid), tokenId, async (log, wait) => {
      await wait();
      for (const [key, value] of Object.entries(vm.config)) {
        if (!DRIVE_KEY.test(key) || String(value).includes('media=cdrom')) continue;
        const volid = String(value).split(',')[0]!;
        const [storeId, name] = volid.split(':') as [string, string];
        const storage = this.storages.get(storeId);
        const vol = storage?.volumes.get(volid);
        if (!storage || !vol || !name.startsWith('vm-')) continue;
        const base = name.replace(/^vm-/, 'base-');
        storage.volumes.delete(volid);
        storage.volumes.set(`${storeId}:${base}`, { ...vol, volid: `${storeId}:${base}` });
        vm.config[key] = String(value).replace(volid, `${storeId}:${base}`);
        log(`  Renamed "${name}" to "${base}" in volume group "pve"`);
        log(`  Logical volume pve/${base} changed.`);
      }
      vm.config.template = 1;
    }, { lockVmid: vmid });
  }

  private clone(vmid: number, p: Record<string, string>, tokenId: string): string {
    const source = this.vm(vmid);
    const newid = Number(p.newid);
    if (this.vms.has(newid)) throw fail500(`unable to create VM ${newid}: config file already exists`);
    const full = p.full === '1' || !source.config.template;
    return this.startTask('qmclone', String(vmid), tokenId, async (log, wait) => {
      if (this.vms.has(newid)) throw new Error(`VM ${newid} already exists on node '${this.node}'`);
      const vm: SimVm = { vmid: newid, config: { lock: 'clone' }, status: 'stopped', qmpstatus: 'stopped' };
      this.vms.set(newid, vm);
      await wait();
      const config: Record<string, string | number> = {};
      for (const [key, value] of Object.entries(source.config)) {
        if (key === 'template' || key === 'lock') continue;
        if (!DRIVE_KEY.test(key)) {
          config[key] = value;
          continue;
        }
        const volid = String(value).split(',')[0]!;
        const [storeId, name] = volid.split(':') as [string, string];
        const storage = this.storages.get(p.storage ?? storeId) ?? this.storages.get(storeId);
        const vol = this.storages.get(storeId)?.volumes.get(volid);
        if (!storage || !vol) {
          config[key] = value;
          continue;
        }
        const newName = name.endsWith('-cloudinit') ? `vm-${newid}-cloudinit` : `vm-${newid}-disk-${nextDiskIndex(storage, newid)}`;
        const newVolid = full ? `${storage.id}:${newName}` : `${storeId}:${name}/${newName}`;
        storage.volumes.set(newVolid, { ...vol, volid: newVolid, storage: storage.id, vmid: newid, ctime: now() });
        config[key] = String(value).replace(volid, newVolid);
        log(`${full ? 'create full clone of' : 'create linked clone of'} drive ${key} (${volid})`);
      }
      if (p.name) config.name = p.name;
      if (p.description) config.description = p.description;
      config.smbios1 = `uuid=${randomUUID()}`;
      config.vmgenid = randomUUID();
      vm.config = config;
    }, { lockVmid: vmid, onFailure: () => this.cleanupFailedCreate(newid) });
  }

  private destroy(vmid: number, p: Record<string, string>, tokenId: string): string {
    const vm = this.vm(vmid);
    if (vm.status === 'running') throw fail500(`VM ${vmid} is running - destroy failed`);
    if (vm.config.protection) throw fail500(`can't remove VM ${vmid} - protection mode enabled`);
    if (vm.config.lock !== undefined && p.skiplock !== '1') throw fail500(`VM ${vmid} is locked (${vm.config.lock})`);
    return this.startTask('qmdestroy', String(vmid), tokenId, async (log, wait) => {
      await wait();
      const referenced = new Set(Object.entries(vm.config).filter(([k]) => DRIVE_KEY.test(k) || /^unused\d+$/.test(k)).map(([, v]) => String(v).split(',')[0]!));
      for (const s of this.storages.values()) {
        for (const [volid, v] of s.volumes) {
          if (v.vmid !== vmid) continue;
          if (referenced.has(volid) || p['destroy-unreferenced-disks'] === '1') {
            s.volumes.delete(volid);
            log(`  Logical volume "${volid.split(':')[1]}" successfully removed.`);
          }
        }
      }
      this.vms.delete(vmid);
      if (p.purge === '1') log(`purging VM ${vmid} from related configurations..`);
    }, { lockVmid: vmid });
  }

  private power(vmid: number, action: string, p: Record<string, string>, tokenId: string): string {
    const vm = this.vm(vmid);
    const type = { start: 'qmstart', stop: 'qmstop', shutdown: 'qmshutdown', reboot: 'qmreboot', reset: 'qmreset', suspend: 'qmsuspend', resume: 'qmresume' }[action]!;
    if (['shutdown', 'reboot', 'reset', 'suspend', 'resume'].includes(action) && vm.status !== 'running') throw fail500(`VM ${vmid} not running`);
    if (vm.config.lock !== undefined && p.skiplock !== '1' && action !== 'stop') throw fail500(`VM ${vmid} is locked (${vm.config.lock})`);
    return this.startTask(type, String(vmid), tokenId, async (log, wait) => {
      await wait();
      if (action === 'start') {
        if (vm.config.template) throw new Error("you can't start a vm if it's a template");
        if (vm.status === 'running') throw new Error(`VM ${vmid} already running`);
        for (const [key, value] of Object.entries(vm.config)) {
          const bridge = /^net\d+$/.test(key) ? /(?:^|,)bridge=([^,]+)/.exec(String(value))?.[1] : undefined;
          if (bridge && !this.bridges.has(bridge)) throw new Error(`bridge '${bridge}' does not exist`);
        }
        vm.status = 'running';
        vm.qmpstatus = 'running';
        vm.startedAt = Date.now();
        log(`generating cloud-init ISO`);
      } else if (action === 'stop' || action === 'shutdown') {
        vm.status = 'stopped';
        vm.qmpstatus = 'stopped';
        delete vm.startedAt;
      } else if (action === 'reboot' || action === 'reset') {
        vm.startedAt = Date.now();
      } else if (action === 'suspend') {
        vm.qmpstatus = 'paused';
      } else if (action === 'resume') {
        vm.qmpstatus = 'running';
      }
    }, { lockVmid: vmid });
  }

  private downloadUrl(p: Record<string, string>, tokenId: string): string {
    const storage = this.storage(p.storage!);
    if (!storage.path) throw fail500(`can't upload to storage type '${storage.type}', not a file based storage!`);
    if (!storage.content.has(p.content!)) throw fail500(`storage '${storage.id}' is not configured for content-type '${p.content}'`);
    const filename = p.filename!;
    if (p.content === 'import' && !/^[^/\\\s]+\.(ova|qcow2|raw|vmdk)$/.test(filename)) throw paramError({ filename: 'invalid filename or wrong extension' });
    if (p.content === 'iso' && !/^[^/\\\s]+\.(iso|img)$/i.test(filename)) throw paramError({ filename: 'wrong file extension' });
    const dir = { import: 'import', iso: 'template/iso', vztmpl: 'template/cache' }[p.content as 'import' | 'iso' | 'vztmpl'];
    const dest = `${storage.path}/${dir}/${filename}`;
    const volid = `${storage.id}:${p.content === 'import' ? 'import' : p.content}/${filename}`;
    return this.startTask('download', filename, tokenId, async (log, wait) => {
      log(`downloading ${p.url} to ${dest}`);
      if (storage.volumes.has(volid)) throw new Error(`refusing to override existing file '${dest}'`);
      const file = this.upstream.get(p.url!);
      await wait();
      if (!file) {
        log(`--${new Date().toISOString().slice(0, 19).replace('T', ' ')}--  ${p.url}`);
        log('ERROR 404: Not Found.');
        throw new Error(`download failed: command '/usr/bin/wget -q --show-progress -O ${dest}.tmp_dwnl.${process.pid} ${p.url}' failed: exit code 8`);
      }
      log(`download of '${p.url}' to '${dest}' finished`);
      if (p.checksum) {
        const algorithm = p['checksum-algorithm']!;
        if (!(HASH_ALGORITHMS as readonly string[]).includes(algorithm)) throw new Error(`unknown checksum algorithm '${algorithm}'`);
        const got = hashOf(file.data, algorithm);
        log('calculating checksum...');
        if (got !== p.checksum.toLowerCase()) throw new Error(`checksum mismatch: got '${got}' != expect '${p.checksum}'`);
        log('OK, checksum verified');
      }
      const format = filename.split('.').pop()!;
      storage.volumes.set(volid, { volid, storage: storage.id, content: p.content!, format, size: p.content === 'import' ? file.virtualSize : file.data.length, ctime: now() });
    });
  }

  private listContent(storageId: string, content: string | undefined, vmid: string | undefined): unknown[] {
    const storage = this.storage(storageId);
    return [...storage.volumes.values()]
      .filter((v) => (content === undefined || v.content === content) && (vmid === undefined || v.vmid === Number(vmid)))
      .map((v) => ({ volid: v.volid, format: v.format, size: v.size, content: v.content, ctime: v.ctime, ...(v.vmid !== undefined ? { vmid: v.vmid } : {}) }));
  }

  private task(upid: string, tokenId: string): SimTask {
    const task = this.tasks.get(upid);
    if (!task) throw fail500(`no such task`);
    if (task.user !== tokenId) this.requirePriv(tokenId, `/nodes/${this.node}`, 'Sys.Audit');
    return task;
  }

  private taskStatus(upid: string, tokenId: string): unknown {
    const t = this.task(upid, tokenId);
    return {
      upid: t.upid,
      node: t.node,
      pid: t.pid,
      pstart: t.pstart,
      starttime: t.starttime,
      type: t.type,
      id: t.id,
      user: t.user,
      status: t.status,
      ...(t.status === 'stopped' ? { exitstatus: t.exitstatus } : {}),
    };
  }

  private taskLog(upid: string, start: number, limit: number, tokenId: string): { data: unknown; total: number } {
    const t = this.task(upid, tokenId);
    const lines = t.log.length ? t.log : ['no content'];
    return { data: lines.slice(start, start + limit).map((text, i) => ({ n: start + i + 1, t: text })), total: lines.length };
  }
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function memoryMiB(vm: SimVm): number {
  const m = /(?:^|current=)(\d+)/.exec(String(vm.config.memory ?? '512'));
  return m ? Number(m[1]) : 512;
}

function nextDiskIndex(storage: SimStorage, vmid: number): number {
  let n = 0;
  const names = new Set([...storage.volumes.keys()].map((v) => v.split(':')[1]!.split('/').pop()!));
  while (names.has(`vm-${vmid}-disk-${n}`) || names.has(`base-${vmid}-disk-${n}`)) n++;
  return n;
}

function human(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 1 : 2)} ${units[i]}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
