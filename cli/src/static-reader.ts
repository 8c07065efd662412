import type { KubeObject } from '../../shared/src/kube/index.js';
import type { CacheReader } from '../../shared/src/kube/cache.js';

/** A CacheReader over a fixed list, for one-shot commands that list once instead of running informers. */
export class StaticReader<T extends KubeObject> implements CacheReader<T> {
  constructor(private readonly items: T[]) {}
  get(namespace: string | undefined, name: string): T | undefined {
    return this.items.find((o) => o.metadata.name === name && (o.metadata.namespace ?? undefined) === namespace);
  }
  list(namespace?: string): T[] {
    return namespace ? this.items.filter((o) => o.metadata.namespace === namespace) : this.items;
  }
}
