// The boot-server's view of what the operator published: boot config Secrets indexed by MAC, and the upstream
// location of every asset a published config refers to (so /assets/<sha256>/... can be fetched on demand).
import { fromSecret, normalizeMac, type BootConfig } from '@anvil/core/bootconfig';
import type { InformerSet, KubeObject } from '@anvil/core/kube';

export interface Artifact {
  url: string;
  sha256: string;
}

export class BootConfigIndex {
  private readonly byKey = new Map<string, BootConfig>();
  private readonly macToKey = new Map<string, string>();
  /** Installations whose grace period a new boot of the host ended (bounded: oldest forgotten first). */
  private readonly graceEndedIds = new Set<string>();

  constructor(source?: Pick<InformerSet<KubeObject>, 'addHandlers'>) {
    source?.addHandlers({
      onAdd: (s) => this.upsert(s),
      onUpdate: (_o, s) => this.upsert(s),
      onDelete: (s) => this.remove(s),
    });
  }

  upsert(secret: KubeObject): void {
    const key = `${secret.metadata.namespace}/${secret.metadata.name}`;
    const old = this.byKey.get(key);
    if (old && this.macToKey.get(normalizeMac(old.mac)) === key) this.macToKey.delete(normalizeMac(old.mac));
    const config = fromSecret(secret);
    if (!config) {
      this.byKey.delete(key);
      return;
    }
    this.byKey.set(key, config);
    this.macToKey.set(normalizeMac(config.mac), key);
  }

  remove(secret: KubeObject): void {
    const key = `${secret.metadata.namespace}/${secret.metadata.name}`;
    const old = this.byKey.get(key);
    this.byKey.delete(key);
    if (old && this.macToKey.get(normalizeMac(old.mac)) === key) this.macToKey.delete(normalizeMac(old.mac));
  }

  /** The addresses hosts reserve (spec.bootIPAddress), each with the host's MAC. */
  reserved(): Map<string, string> {
    const out = new Map<string, string>();
    for (const c of this.byKey.values()) if (c.reservedAddress) out.set(c.reservedAddress, normalizeMac(c.mac));
    return out;
  }

  byMac(mac: string): BootConfig | undefined {
    const key = this.macToKey.get(normalizeMac(mac));
    return key ? this.byKey.get(key) : undefined;
  }

  /** The upstream artifact with this sha256, if any published install config uses it. */
  artifact(sha256: string): Artifact | undefined {
    const want = sha256.toLowerCase();
    for (const c of this.byKey.values()) {
      const i = c.install;
      if (!i) continue;
      for (const a of [i.kernel, i.initrd, i.iso]) if (a && a.sha256.toLowerCase() === want) return a;
    }
    return undefined;
  }

  endGrace(installationId: string): void {
    if (this.graceEndedIds.has(installationId)) return;
    this.graceEndedIds.add(installationId);
    if (this.graceEndedIds.size > 100_000) this.graceEndedIds.delete(this.graceEndedIds.values().next().value!);
  }

  graceEnded(installationId: string): boolean {
    return this.graceEndedIds.has(installationId);
  }

  get size(): number {
    return this.byKey.size;
  }
}
