// The manager owns the shared informers, the controllers, leader election and the health/metrics endpoint.
// Caches start on every replica (a standby is warm); controllers start only on the leader.
import type { Server } from 'node:http';
import type { Router } from 'express';
import type { Logger } from 'pino';
import { type KubeClient, type KubeObject, type ResourceType, InformerSet, Informer } from '@anvil/core/kube';
import { Controller, type ControllerOptions } from './controller.js';
import { KubeEventRecorder, type EventRecorder } from './events.js';
import { LeaderElector, type LeaderElectionConfig } from './leader-election.js';
import { ControllerMetrics } from './metrics.js';
import { createHealthApp } from './health-server.js';
import { type HttpsConfig, type ReloadingHttpsServer, serveHttps } from '@anvil/core/tls';

export interface ManagerOptions {
  client: KubeClient;
  log: Logger;
  /** Namespaces to watch; empty means all namespaces. */
  namespaces?: string[];
  leaderElection?: LeaderElectionConfig;
  /** Port for /metrics, /healthz and /readyz; undefined means no HTTP server, 0 a random port. */
  healthPort?: number;
  healthHost?: string;
  resyncPeriodMs?: number;
  metrics?: ControllerMetrics;
  identity: string;
  /** Extra routes on the health/metrics port (the history API). */
  extraRoutes?: Router;
  /** The same routes over HTTPS, with a certificate reloaded when it rotates. */
  https?: HttpsConfig;
  /** Called when leadership is lost; the process should exit so a fresh start campaigns again. */
  onLeadershipLost?: (reason: string) => void;
}

/** Work that is not driven by an informer (e.g. a periodic loop); runs only while this replica leads. */
export interface Runnable {
  start(): void;
  stop(): Promise<void>;
}

export class Manager {
  readonly metrics: ControllerMetrics;
  readonly recorder: EventRecorder & { flush(): Promise<void> };
  private readonly informerSets = new Map<string, InformerSet<KubeObject>>();
  private readonly controllers: Runnable[] = [];
  private readonly runnables: Runnable[] = [];
  private elector: LeaderElector | undefined;
  private server: Server | undefined;
  private httpsServer: ReloadingHttpsServer | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private controllersStarted = false;

  constructor(private readonly options: ManagerOptions) {
    this.metrics = options.metrics ?? new ControllerMetrics();
    this.recorder = new KubeEventRecorder(options.client, 'anvil.dev/operator', options.identity, options.log.child({ component: 'events' }));
  }

  get client(): KubeClient {
    return this.options.client;
  }

  /** This replica's identity (leader election, Events' reportingInstance). */
  get identity(): string {
    return this.options.identity;
  }

  get isLeader(): boolean {
    return this.options.leaderElection ? (this.elector?.isLeader ?? false) : this.controllersStarted;
  }

  get healthAddress(): { port: number } | undefined {
    const addr = this.server?.address();
    return addr && typeof addr === 'object' ? { port: addr.port } : undefined;
  }

  /** The HTTPS listener (undefined without a certificate, or while waiting for cert-manager to issue it). */
  get httpsAddress(): { port: number } | undefined {
    const port = this.httpsServer?.port;
    return port === undefined ? undefined : { port };
  }

  /** The shared cache of a kind: one informer per watched namespace (or one cluster-wide). */
  informer<T extends KubeObject>(type: ResourceType, opts: { labelSelector?: string; metadataOnly?: boolean } = {}): InformerSet<T> {
    const key = `${type.group}/${type.version}/${type.plural}?${opts.labelSelector ?? ''}${opts.metadataOnly ? '#metadata' : ''}`;
    let set = this.informerSets.get(key);
    if (!set) {
      const namespaces = type.namespaced && this.options.namespaces?.length ? this.options.namespaces : [undefined];
      const informers = namespaces.map(
        (ns) =>
          new Informer<KubeObject>(this.options.client, type, this.options.log.child({ informer: type.plural, namespace: ns ?? '*' }), {
            ...(ns ? { namespace: ns } : {}),
            ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
            ...(opts.metadataOnly ? { metadataOnly: true } : {}),
            ...(this.options.resyncPeriodMs ? { resyncPeriodMs: this.options.resyncPeriodMs } : {}),
          }),
      );
      set = new InformerSet(type, informers);
      this.informerSets.set(key, set);
      if (this.state === 'running' || this.state === 'starting') set.start();
    }
    // The one unchecked step of the object model: the caches of all kinds share this map, and T is the caller's word
    // for what objects of `type` look like (nothing at run time can check it; an informer's T is invariant).
    return set as unknown as InformerSet<T>;
  }

  /** Adds a controller; its options type-check against the primary kind's object type (from the `for` cache). */
  addController<T extends KubeObject>(options: ControllerOptions<T>): Controller<T> {
    const c = new Controller<T>(options, this.metrics, this.options.log.child({ controller: options.name }));
    this.controllers.push(c);
    return c;
  }

  addRunnable(runnable: Runnable): void {
    this.runnables.push(runnable);
    if (this.controllersStarted) runnable.start();
  }

  get synced(): boolean {
    return [...this.informerSets.values()].every((s) => s.hasSynced);
  }

  /** Starts caches and the health server, waits for leadership, then starts the controllers. Returns once leading. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('manager already started');
    this.state = 'starting';
    const healthPort = this.options.healthPort;
    if (healthPort !== undefined) {
      const app = createHealthApp({
        registry: this.metrics.registry,
        ready: () => this.synced,
        ...(this.options.extraRoutes ? { extraRoutes: this.options.extraRoutes } : {}),
      });
      this.server = await new Promise<Server>((resolve, reject) => {
        const server = app.listen(healthPort, this.options.healthHost ?? '0.0.0.0', (err?: Error) => (err ? reject(err) : resolve(server)));
      });
      if (this.options.https) {
        this.httpsServer = await serveHttps({ config: this.options.https, handler: app, registry: this.metrics.registry, log: this.options.log.child({ component: 'https' }) });
      }
    }
    for (const set of this.informerSets.values()) set.start();
    this.state = 'running';
    if (this.options.leaderElection) {
      this.elector = new LeaderElector(this.options.client, this.options.leaderElection, this.options.log.child({ component: 'leader-election' }));
      const leading = await this.elector.acquire((reason) => {
        this.metrics.leader.set({ name: this.options.leaderElection!.name }, 0);
        void this.stopControllers();
        this.options.onLeadershipLost?.(reason);
      });
      if (!leading) return;
      this.metrics.leader.set({ name: this.options.leaderElection.name }, 1);
    }
    await Promise.all([...this.informerSets.values()].map((s) => s.waitForSync()));
    if (this.state !== 'running') return;
    for (const c of this.controllers) c.start();
    for (const r of this.runnables) r.start();
    this.controllersStarted = true;
  }

  private async stopControllers(): Promise<void> {
    await Promise.all([...this.controllers.map((c) => c.stop()), ...this.runnables.map((r) => r.stop())]);
  }

  /** Graceful stop: no new work, reconciles in flight finish, events flushed, the lease handed back. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    await this.stopControllers();
    await this.recorder.flush();
    await this.elector?.stop();
    await Promise.all([...this.informerSets.values()].map((s) => s.stop()));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await this.httpsServer?.close();
    this.state = 'stopped';
  }

  /** Simulates a crash for tests: stops everything without releasing the lease. */
  async kill(): Promise<void> {
    if (this.options.leaderElection) this.options.leaderElection.releaseOnStop = false;
    await this.stop();
  }
}
