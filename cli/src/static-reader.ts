import { objectKeyString, type KubeObject, type IndexedCacheReader, IndexedStore, NAMESPACE_INDEX, type IndexFunc, keyOf } from '@anvil/core/kube';

/** A cache over a fixed list, for one-shot commands that list once instead of running informers. */
export class StaticReader<T extends KubeObject> implements IndexedCacheReader<T> {
  private readonly store = new IndexedStore<T>();

  constructor(items: T[], indexes: Record<string, IndexFunc<T>> = {}) {
    for (const [name, fn] of Object.entries(indexes)) this.store.addIndex(name, fn);
    for (const item of items) this.store.set(keyOf(item), item);
  }
  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(objectKeyString(namespace, name));
  }
  list(namespace?: string): T[] {
    return namespace ? this.store.byIndex(NAMESPACE_INDEX, namespace) : [...this.store.values()];
  }
  byIndex(index: string, value: string): T[] {
    return this.store.byIndex(index, value);
  }
}
