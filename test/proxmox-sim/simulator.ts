// A stateful Proxmox VE API simulator for anvil's tests, driven by the real API schema (PVE 8.4 or 9.1 subset):
// every request is matched to its endpoint by path template and method, authenticated (PVEAPIToken), permission-
// checked with the schema's check expressions and per-token denials, and its parameters verified as PVE does
// (400 with the `errors` object). Calls that start work return real UPIDs of tasks that run asynchronously, take
// time, hold per-VM locks and can fail; their status and log are served like PVE's. Faults can be injected.
// Every request is recorded so a test can assert that all of them were valid against the schema.
//
// This class composes the resources (nodes, storage, VMs, tasks, access) and keeps the API tests use; each
// resource lives in its own module and serves its endpoints through the one router and parameter verification.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Access, type SimToken } from './access.js';
import type { SimContext } from './context.js';
import { HttpFaults, type HttpFaultSpec } from './faults.js';
import { sendError } from './http.js';
import { VERSIONS, type VersionInfo } from './nodes.js';
import { handleApiRequest, type Pipeline, type SimRequestRecord } from './pipeline.js';
import { Router } from './router.js';
import { allRoutes } from './routes.js';
import { PveSchema, type PveMajor } from './schema.js';
import { defaultStorages, type SimStorage, type SimVm, type UpstreamFile } from './state.js';
import { addStorage, type StorageSpec } from './storage.js';
import { TaskRunner, type SimTask } from './task-runner.js';
import { UPSTREAM_PREFIX, UpstreamFiles } from './upstream.js';
import { createForeignVm } from './vms.js';

export type { SimToken } from './access.js';
export type { SimRequestRecord } from './pipeline.js';
export type { SimTask } from './task-runner.js';

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

export class ProxmoxSimulator {
  readonly schema: PveSchema;
  readonly node: string;
  readonly pveMajor: PveMajor;
  readonly requests: SimRequestRecord[] = [];
  readonly storages = new Map<string, SimStorage>();
  readonly vms = new Map<number, SimVm>();
  readonly tasks: Map<string, SimTask>;
  readonly upstream = new Map<string, UpstreamFile>();
  readonly bridges: Set<string>;
  versionInfo: VersionInfo;

  private readonly access: Access;
  private readonly runner: TaskRunner;
  private readonly ctx: SimContext;
  private readonly upstreamFiles: UpstreamFiles;
  private readonly httpFaults = new HttpFaults();
  private readonly races = new Set<number>();
  private readonly pipeline: Pipeline;
  private server: Server | undefined;
  private seq = 0;
  private baseUrl = '';

  constructor(private readonly options: SimulatorOptions = {}) {
    this.pveMajor = options.pveMajor ?? 9;
    this.schema = PveSchema.load(this.pveMajor);
    this.node = options.node ?? 'pve';
    this.versionInfo = { ...VERSIONS[this.pveMajor] };
    for (const s of defaultStorages()) this.storages.set(s.id, s);
    this.access = new Access(options.tokens);
    this.bridges = new Set(options.bridges ?? ['vmbr0', 'vmbr1']);
    this.runner = new TaskRunner(this.node, {
      defaultDurationMs: options.taskDurationMs ?? 20,
      durations: options.taskDurations ?? {},
      lockTimeoutMs: options.lockTimeoutMs ?? 30,
    });
    this.tasks = this.runner.tasks;
    this.upstreamFiles = new UpstreamFiles(this.upstream, () => this.baseUrl);
    const { node, schema, storages, vms, upstream, bridges, access, runner } = this;
    this.ctx = { node, schema, storages, vms, upstream, bridges, access, tasks: runner };
    const router = new Router(schema, allRoutes(this.ctx, { version: () => this.versionInfo, races: this.races }));
    this.pipeline = { node, router, access, faults: this.httpFaults, requests: this.requests, nextSeq: () => ++this.seq };
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  async start(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendError(res, 500, `simulator error: ${(err as Error).message}`);
      });
    };
    this.server = this.options.tls ? createHttpsServer({ key: this.options.tls.key, cert: this.options.tls.cert }, handler) : createHttpServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    this.runner.releaseAll();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Base URL (scheme, host, port), as a ProxmoxTemplate's connection.url. */
  get url(): string {
    return this.baseUrl;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname.startsWith(UPSTREAM_PREFIX) && method === 'GET') return this.upstreamFiles.serve(url.pathname, res);
    if (!url.pathname.startsWith('/api2/json/')) return sendError(res, 404, 'Not Found');
    return handleApiRequest(this.pipeline, req, res, url);
  }

  // --------------------------------------------------------------------------------------------- test set-up

  /** The Authorization value's token part, USER@REALM!TOKENID=SECRET. */
  token(id?: string): string {
    return this.access.token(id);
  }

  addToken(id: string, secret?: string): string {
    return this.access.addToken(id, secret);
  }

  /** Takes a privilege away from a token on an ACL path and everything below it (e.g. '/vms', 'VM.Allocate'). */
  deny(tokenId: string, path: string, privilege: string): void {
    this.access.deny(tokenId, path, privilege);
  }

  /** Gives back privileges taken with deny (all of them when privilege is omitted). */
  allow(tokenId: string, path: string, privilege?: string): void {
    this.access.allow(tokenId, path, privilege);
  }

  addStorage(storage: StorageSpec): void {
    addStorage(this.ctx, storage);
  }

  /**
   * Publishes (or replaces, which changes its checksums) a file download-url can fetch. URLs under upstreamUrl()
   * are also served over HTTP by this server, so the operator can read checksum files from it.
   */
  setUpstreamFile(url: string, data: string | Buffer, options: { virtualSize?: number; contentType?: string } = {}): UpstreamFile {
    return this.upstreamFiles.set(url, data, options);
  }

  removeUpstreamFile(url: string): void {
    this.upstreamFiles.remove(url);
  }

  /** A URL served by this simulator's upstream file table (`/_upstream/<path>`). */
  upstreamUrl(path: string): string {
    return this.upstreamFiles.url(path);
  }

  /** Checksum of an upstream file, as download-url computes it. */
  upstreamChecksum(url: string, algorithm = 'sha256'): string {
    return this.upstreamFiles.checksum(url, algorithm);
  }

  /** A VM created by someone else (another tool, a person), e.g. to take a VMID. */
  createForeignVm(vmid: number, config: Record<string, string | number> = {}): void {
    createForeignVm(this.ctx, vmid, config);
  }

  // ------------------------------------------------------------------------------------------ fault injection

  /** Answers the next `times` matching requests with this status (e.g. 500, 503, 596) instead of handling them. */
  failRequests(fault: HttpFaultSpec): void {
    this.httpFaults.add(fault);
  }

  /**
   * Makes the next `times` tasks of this type fail with `message`; without a message they fail with PVE's lock
   * timeout for their VMID ("can't lock file '/var/lock/qemu-server/lock-<vmid>.conf' - got timeout").
   */
  failTasks(type: string, options: { message?: string; times?: number } = {}): void {
    this.runner.fail(type, options);
  }

  /** Tasks of this type succeed again (the failures failTasks queued and not used up are dropped). */
  stopFailingTasks(type: string): void {
    this.runner.clearFailures(type);
  }

  /** Keeps tasks of this type running (a slow download, a stuck import) until the returned function is called. */
  holdTasks(type: string): () => void {
    return this.runner.hold(type);
  }

  setTaskDuration(type: string, ms: number): void {
    this.runner.setDuration(type, ms);
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
    return this.runner.locks.holdExternally(vmid);
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
    return this.runner.running();
  }

  /** Resolves when no task is running (for clean test teardown). */
  async idle(): Promise<void> {
    await this.runner.idle();
  }
}
