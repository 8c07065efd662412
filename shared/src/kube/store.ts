// The informer's cache: objects by key, plus secondary indexes (like client-go's Indexer) so lookups such as "hosts
// with this MAC" or "objects in this namespace" cost the size of the answer, not the size of the cache.
import type { KubeObject } from './types.js';

/** Index values of an object; an object may have none or several. */
export type IndexFunc<T> = (obj: T) => string[];

export const NAMESPACE_INDEX = 'namespace';

export class IndexedStore<T extends KubeObject> {
  private readonly objects = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name -> index value -> keys */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor() {
    this.addIndex(NAMESPACE_INDEX, (obj) => [obj.metadata.namespace ?? '']);
  }

  get size(): number {
    return this.objects.size;
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  values(): IterableIterator<T> {
    return this.objects.values();
  }

  entries(): IterableIterator<[string, T]> {
    return this.objects.entries();
  }

  set(key: string, obj: T): void {
    const old = this.objects.get(key);
    if (old) this.unindex(key, old);
    this.objects.set(key, obj);
    this.index(key, obj);
  }

  delete(key: string): void {
    const old = this.objects.get(key);
    if (!old) return;
    this.unindex(key, old);
    this.objects.delete(key);
  }

  /** Adds an index; existing objects are indexed at once. Adding a name twice replaces the function. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indices.set(name, index);
    for (const [key, obj] of this.objects) for (const value of safeValues(fn, obj)) addTo(index, value, key);
  }

  hasIndex(name: string): boolean {
    return this.indexers.has(name);
  }

  /** Objects whose index `name` has `value`. Throws for an unknown index, a programming error. */
  byIndex(name: string, value: string): T[] {
    const index = this.indices.get(name);
    if (!index) throw new Error(`no index "${name}" on this cache`);
    const keys = index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.objects.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  private index(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) for (const value of safeValues(fn, obj)) addTo(this.indices.get(name)!, value, key);
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const value of safeValues(fn, obj)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}

/** An index function must not break the cache: a malformed object (no spec, say) is simply not indexed. */
function safeValues<T>(fn: IndexFunc<T>, obj: T): string[] {
  try {
    return [...new Set(fn(obj))];
  } catch {
    return [];
  }
}

function addTo(index: Map<string, Set<string>>, value: string, key: string): void {
  let keys = index.get(value);
  if (!keys) index.set(value, (keys = new Set()));
  keys.add(key);
}
