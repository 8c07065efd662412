// A read-only view over one or more informers of a kind (one per watched namespace).
import type { KubeObject, ResourceType } from './index.js';
import { type Informer, keyOf, type InformerHandlers } from './informer.js';

export interface CacheReader<T extends KubeObject> {
  get(namespace: string | undefined, name: string): T | undefined;
  list(namespace?: string): T[];
}

export class InformerSet<T extends KubeObject> implements CacheReader<T> {
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
    const all = this.informers.flatMap((i) => i.list());
    return namespace ? all.filter((o) => o.metadata.namespace === namespace) : all;
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
