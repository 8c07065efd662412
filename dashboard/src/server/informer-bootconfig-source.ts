// BootConfigSource over the operator's boot config Secret cache (Manager.informer with the boot-config label, the one
// the host controller runs): read from memory, parsed when asked.
import { bootConfigSecretName, fromSecret, type BootConfig } from '@anvil/core/bootconfig';
import type { InformerSet, KubeObject } from '@anvil/core/kube';
import type { BootConfigSource } from './ports.js';

export class InformerBootConfigSource implements BootConfigSource {
  constructor(private readonly cache: InformerSet<KubeObject>) {}

  bootConfigOf(namespace: string, hostName: string): BootConfig | undefined {
    const secret = this.cache.get(namespace, bootConfigSecretName(hostName));
    return secret ? fromSecret(secret) : undefined;
  }
}
