// An informer: list, then watch from the list's resourceVersion; relist on 410 Gone; reconnect with backoff;
// periodic resync. Keeps a cache of the objects it has seen and tells handlers about adds, updates and deletes.
//
// A watch normally ends because the server ends it (its timeoutSeconds, 5-10 min by default, like client-go): that is
// no failure, it is watched again at once and nothing is logged. Only a list or watch that really fails is logged and
// retried with backoff, and the backoff starts over after a list or watch that worked.
import type { Logger } from 'pino';
import { IndexedStore, type IndexFunc } from './store.js';
import { isGone } from './errors.js';
import { objectKeyString } from './resources.js';
import type { KubeClient, KubeObject, ResourceType, WatchEvent } from './types.js';

export interface InformerHandlers<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  /** Every resyncPeriodMs, onUpdate(obj, obj) is called for every cached object. 0 disables. */
  resyncPeriodMs?: number;
  /**
   * Server-side watch timeout (default 300 s); randomised between 1x and 2x like client-go so watches do not reconnect
   * in step. The client caps it below its own watch body timeout (RestClientOptions.watchBodyTimeoutMs).
   */
  watchTimeoutSeconds?: number;
  /** Page size for the initial list. */
  pageSize?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Cache only metadata (PartialObjectMetadata): to learn of changes to a kind without holding its contents. */
  metadataOnly?: boolean;
}

export interface InformerStats {
  lists: number;
  watches: number;
  /** Watches the server ended normally (their timeout): the usual end of a quiet watch. */
  watchesEnded: number;
  relistsOnGone: number;
  /** Lists and watches that failed (each one logged and retried with backoff). */
  watchErrors: number;
  /** Failures since the last list or watch that worked; the next retry waits backoffInitialMs * 2^(n-1). */
  consecutiveFailures: number;
  /** The wait before the last retry (0 before any). */
  lastRetryDelayMs: number;
  /** Times a list or watch that worked ended a run of failures (the backoff started over). */
  backoffResets: number;
}

/**
 * Nothing reads managedFields from a cache (patches are computed without them), and they are often the largest part
 * of an object's metadata: dropped on the way in, like controller-runtime's TransformStripManagedFields.
 */
function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
  return obj;
}

export const keyOf = (obj: KubeObject): string => objectKeyString(obj.metadata.namespace, obj.metadata.name ?? '');

export class Informer<T extends KubeObject> {
  private readonly cache = new IndexedStore<T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private resourceVersion = '';
  private running = false;
  private synced = false;
  private syncedWaiters: (() => void)[] = [];
  private stopWatch: (() => void) | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private sleepCancel: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  readonly stats: InformerStats = { lists: 0, watches: 0, watchesEnded: 0, relistsOnGone: 0, watchErrors: 0, consecutiveFailures: 0, lastRetryDelayMs: 0, backoffResets: 0 };
  /** Events (bookmarks included) the current watch has delivered: a watch that delivered any has worked. */
  private eventsThisWatch = 0;

  constructor(
    private readonly client: KubeClient,
    readonly type: ResourceType,
    private readonly log: Logger,
    private readonly options: InformerOptions = {},
  ) {}

  addHandlers(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
    if (this.synced) for (const obj of this.cache.values()) handlers.onAdd?.(obj);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** Adds a secondary index over the cache (see IndexedStore); safe before or after the informer starts. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    this.cache.addIndex(name, fn);
  }

  byIndex(name: string, value: string): T[] {
    return this.cache.byIndex(name, value);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
    const period = this.options.resyncPeriodMs ?? 0;
    if (period > 0) {
      this.resyncTimer = setInterval(() => this.resync(), period);
      this.resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.stopWatch?.();
    this.sleepCancel?.();
    await this.loop;
  }

  private resync(): void {
    for (const obj of this.cache.values()) for (const h of this.handlers) h.onUpdate?.(obj, obj);
  }

  private async run(): Promise<void> {
    let needList = true;
    while (this.running) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          this.worked();
        }
        const err = await this.watchOnce();
        if (!this.running) break;
        if (this.eventsThisWatch > 0) this.worked();
        if (err) throw err;
        // The server ended the watch at its timeout: watch again from where we are.
        this.stats.watchesEnded++;
        this.worked();
      } catch (err) {
        if (!this.running) break;
        if (isGone(err)) {
          // Our resourceVersion was compacted away: the only safe move is a fresh list.
          this.stats.relistsOnGone++;
          this.log.info({ resource: this.type.plural }, 'watch expired (410 Gone); relisting');
          needList = true;
          continue;
        }
        const failures = ++this.stats.consecutiveFailures;
        this.stats.watchErrors++;
        const base = this.options.backoffInitialMs ?? 200;
        const delay = Math.min(base * 2 ** (failures - 1), this.options.backoffMaxMs ?? 30_000);
        this.stats.lastRetryDelayMs = delay;
        this.log.warn({ resource: this.type.plural, err: describeError(err), retryInMs: delay }, 'list/watch failed; retrying');
        await this.sleep(delay);
        // After a failed list we must list again; after a failed watch, resuming from our resourceVersion is enough.
        if (!this.synced || this.resourceVersion === '') needList = true;
      }
    }
  }

  /** A list or watch worked: the next failure is retried after the initial backoff again. */
  private worked(): void {
    if (this.stats.consecutiveFailures === 0) return;
    this.stats.consecutiveFailures = 0;
    this.stats.backoffResets++;
  }

  private async relist(): Promise<void> {
    this.stats.lists++;
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.client.list<T>(this.type, {
        ...(this.options.namespace ? { namespace: this.options.namespace } : {}),
        ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
        limit: this.options.pageSize ?? 500,
        ...(cont ? { continue: cont } : {}),
        ...(this.options.metadataOnly ? { metadataOnly: true } : {}),
      });
      for (const item of page.items) items.push(stripManagedFields(item));
      cont = page.continue;
      rv = page.resourceVersion;
    } while (cont);
    this.replace(items, rv);
  }

  /** Replaces the cache with a fresh list, telling handlers only what changed (like a DeltaFIFO Replace). */
  private replace(items: T[], resourceVersion: string): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = keyOf(obj);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, old);
    }
    for (const [key, old] of this.cache.entries()) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit('delete', old);
      }
    }
    this.resourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncedWaiters.splice(0)) w();
    }
  }

  private async watchOnce(): Promise<Error | undefined> {
    this.stats.watches++;
    this.eventsThisWatch = 0;
    const base = this.options.watchTimeoutSeconds ?? 300;
    const handle = this.client.watch<T>(
      this.type,
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: Math.floor(base * (1 + Math.random())),
        ...(this.options.namespace ? { namespace: this.options.namespace } : {}),
        ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
        ...(this.options.metadataOnly ? { metadataOnly: true } : {}),
      },
      (event) => this.onEvent(event),
    );
    this.stopWatch = () => handle.stop();
    return handle.done;
  }

  private onEvent(event: WatchEvent<T>): void {
    this.eventsThisWatch++;
    const obj = stripManagedFields(event.object);
    const rv = obj.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    obj.apiVersion ??= this.type.group ? `${this.type.group}/${this.type.version}` : this.type.version;
    obj.kind ??= this.type.kind;
    const key = keyOf(obj);
    const old = this.cache.get(key);
    if (event.type === 'DELETED') {
      this.cache.delete(key);
      this.emit('delete', obj);
    } else if (old) {
      this.cache.set(key, obj);
      this.emit('update', obj, old);
    } else {
      this.cache.set(key, obj);
      this.emit('add', obj);
    }
    if (rv) this.resourceVersion = rv;
  }

  private emit(kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'add') h.onAdd?.(obj);
        else if (kind === 'update') h.onUpdate?.(old as T, obj);
        else h.onDelete?.(obj);
      } catch (err) {
        this.log.error({ err, resource: this.type.plural }, 'informer handler threw');
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.sleepCancel = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** The error and its cause: undici reports a dropped body as "TypeError: terminated", the reason being in `cause`. */
function describeError(err: unknown): string {
  const text = String(err);
  const cause = err instanceof Error && err.cause !== undefined ? String(err.cause) : '';
  return cause && cause !== text ? `${text} (${cause})` : text;
}
