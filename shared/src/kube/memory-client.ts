// An in-memory KubeClient for unit tests of code that reads and writes objects: the API server's rules that such code
// relies on (resourceVersion preconditions answered with 409, the status subresource, metadata.generation moving with
// the spec, finalizers holding back a deletion) and nothing else. Watches are not served: informers need a real server.
import { applyMergePatch, clone, deepEqual } from '../json/merge-patch.js';
import { ApiError } from './errors.js';
import { objectKeyString } from './resources.js';
import type { CacheReader } from './cache.js';
import type { KubeClient, KubeObject, ListResult, ObjectKey, PatchOptions, PatchType, ResourceType, WatchHandle } from './types.js';

export class MemoryKubeClient implements KubeClient {
  private readonly objects = new Map<string, KubeObject>();
  private version = 0;
  /** Every write the client accepted, in order: `patch Thing ns/name [status]`. */
  readonly writes: string[] = [];

  async get<T extends KubeObject>(type: ResourceType, key: ObjectKey): Promise<T | undefined> {
    const obj = this.objects.get(this.storeKey(type, key));
    return obj ? (clone(obj) as T) : undefined;
  }

  async list<T extends KubeObject>(type: ResourceType, options: { namespace?: string } = {}): Promise<ListResult<T>> {
    const prefix = `${type.plural}/`;
    const items = [...this.objects.entries()]
      .filter(([key, obj]) => key.startsWith(prefix) && (!options.namespace || obj.metadata.namespace === options.namespace))
      .map(([, obj]) => clone(obj) as T);
    return { items, resourceVersion: String(this.version) };
  }

  watch(): WatchHandle {
    throw new Error('MemoryKubeClient serves no watches');
  }

  async create<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    const key = this.storeKey(type, { namespace: object.metadata.namespace, name: object.metadata.name ?? '' });
    if (this.objects.has(key)) throw new ApiError(409, 'AlreadyExists', `${key} already exists`);
    const stored = clone(object);
    stored.metadata = { ...stored.metadata, uid: `uid-${key}`, generation: 1, resourceVersion: this.nextVersion() };
    this.objects.set(key, stored);
    this.writes.push(`create ${type.kind} ${objectKeyString(object.metadata.namespace, object.metadata.name ?? '')}`);
    return clone(stored);
  }

  async replace<T extends KubeObject>(): Promise<T> {
    throw new Error('MemoryKubeClient: replace is not implemented; use patch');
  }

  async patch<T extends KubeObject>(type: ResourceType, key: ObjectKey, patchType: PatchType, body: unknown, options: PatchOptions = {}): Promise<T> {
    if (patchType !== 'merge') throw new Error('MemoryKubeClient: only merge patches');
    const storeKey = this.storeKey(type, key);
    const current = this.objects.get(storeKey);
    if (!current) throw new ApiError(404, 'NotFound', `${storeKey} not found`);
    const patch = body as { metadata?: { resourceVersion?: string } } & Record<string, unknown>;
    const precondition = patch.metadata?.resourceVersion;
    if (precondition !== undefined && precondition !== current.metadata.resourceVersion) {
      throw new ApiError(409, 'Conflict', `${storeKey}: the object has been modified`);
    }
    const { metadata: metaPatch, ...rest } = patch;
    const { resourceVersion: _rv, ...metaChanges } = metaPatch ?? {};
    let next = clone(current);
    if (options.subresource === 'status') {
      next.status = applyMergePatch(clone(current.status ?? {}), rest.status ?? {});
    } else {
      const { status: _ignored, ...mainChanges } = rest;
      next = applyMergePatch(next, { ...mainChanges, metadata: metaChanges });
      if (!deepEqual(next.spec, current.spec)) next.metadata.generation = (current.metadata.generation ?? 0) + 1;
    }
    next.metadata.resourceVersion = this.nextVersion();
    this.writes.push(`patch ${type.kind} ${objectKeyString(key.namespace, key.name)}${options.subresource ? ' status' : ''}`);
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) this.objects.delete(storeKey);
    else this.objects.set(storeKey, next);
    return clone(next) as T;
  }

  async delete(type: ResourceType, key: ObjectKey): Promise<void> {
    const storeKey = this.storeKey(type, key);
    const current = this.objects.get(storeKey);
    if (!current) throw new ApiError(404, 'NotFound', `${storeKey} not found`);
    this.writes.push(`delete ${type.kind} ${objectKeyString(key.namespace, key.name)}`);
    if (!current.metadata.finalizers?.length) {
      this.objects.delete(storeKey);
      return;
    }
    current.metadata.deletionTimestamp ??= new Date(0).toISOString();
    current.metadata.resourceVersion = this.nextVersion();
  }

  private storeKey(type: ResourceType, key: ObjectKey): string {
    return `${type.plural}/${objectKeyString(type.namespaced ? key.namespace : undefined, key.name)}`;
  }

  private nextVersion(): string {
    return String(++this.version);
  }
}

/**
 * An informer cache stand-in for unit tests: a copy of the client's objects of one kind taken when the test says so
 * (`sync`), so a test can hold it back to see what a reconciler does on a stale cache.
 */
export class MemorySnapshotCache<T extends KubeObject> implements CacheReader<T> {
  private objects = new Map<string, T>();
  constructor(
    private readonly client: MemoryKubeClient,
    private readonly type: ResourceType,
  ) {}
  async sync(): Promise<void> {
    const { items } = await this.client.list<T>(this.type);
    this.objects = new Map(items.map((o) => [objectKeyString(o.metadata.namespace, o.metadata.name ?? ''), o]));
  }
  get(namespace: string | undefined, name: string): T | undefined {
    return this.objects.get(objectKeyString(namespace, name));
  }
  list(): T[] {
    return [...this.objects.values()];
  }
}
