// HostSource over the operator's shared BareMetalHost cache (Manager.informer): reads are from memory, and one set of
// informer handlers fans changes out to every open event stream.
import type { BareMetalHost } from '@anvil/core/api';
import type { InformerSet } from '@anvil/core/kube';
import type { HostChange, HostSource } from './ports.js';

export class InformerHostSource implements HostSource {
  private readonly listeners = new Set<(change: HostChange) => void>();

  constructor(private readonly cache: InformerSet<BareMetalHost>) {
    const emit = (change: HostChange) => {
      for (const l of this.listeners) l(change);
    };
    cache.addHandlers({
      onAdd: (host) => emit({ type: 'added', host }),
      // A periodic resync calls onUpdate with the same object: nothing changed, nothing to send.
      onUpdate: (old, host) => {
        if (old.metadata.resourceVersion !== host.metadata.resourceVersion) emit({ type: 'changed', host });
      },
      onDelete: (host) => emit({ type: 'removed', host }),
    });
  }

  list(): BareMetalHost[] {
    return this.cache.list();
  }

  get(namespace: string, name: string): BareMetalHost | undefined {
    return this.cache.get(namespace, name);
  }

  watch(listener: (change: HostChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
