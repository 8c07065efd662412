// A read-only view over one or more informers of a kind (one per watched namespace).
import type { KubeObject, ResourceType } from './types.js';
import { type Informer, keyOf, type InformerHandlers } from './informer.js';
import { NAMESPACE_INDEX, type IndexFunc } from './store.js';

export interface CacheReader<T extends KubeObject> {
  get(namespace: string | undefined, name: string): T | undefined;
  list(namespace?: string): T[];
}

/** A cache with secondary indexes (added with addIndex on the informers behind it). */
export interface IndexedCacheReader<T extends KubeObject> extends CacheReader<T> {
  byIndex(index: string, value: string): T[];
}

export class InformerSet<T extends KubeObject> implements IndexedCacheReader<T> {
  constructor(
    readonly type: ResourceType,
    readonly informers: Informer<T>[],
  ) {}

  get(namespace: string | undefined, name: string): T | undefined {
    const key = namespace ? `${namespace}/${name}` : name;
    for (const inf of this.informers) {
      const obj = inf.get(key);
      if (obj) return obj;
    }
    return undefined;
  }

  list(namespace?: string): T[] {
    if (namespace) return this.byIndex(NAMESPACE_INDEX, namespace);
    return this.informers.flatMap((i) => i.list());
  }

  addIndex(name: string, fn: IndexFunc<T>): void {
    for (const inf of this.informers) inf.addIndex(name, fn);
  }

  byIndex(name: string, value: string): T[] {
    return this.informers.length === 1 ? this.informers[0]!.byIndex(name, value) : this.informers.flatMap((i) => i.byIndex(name, value));
  }

  addHandlers(h: InformerHandlers<T>): void {
    for (const inf of this.informers) inf.addHandlers(h);
  }

  get hasSynced(): boolean {
    return this.informers.every((i) => i.hasSynced);
  }

  async waitForSync(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.waitForSync()));
  }

  start(): void {
    for (const i of this.informers) i.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}

export { keyOf };
