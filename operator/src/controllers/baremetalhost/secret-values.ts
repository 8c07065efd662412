// The referenced Secrets' data, read once per version while renders need it: the hosts of a fleet usually share a
// credentials Secret, and without this every host's render read it again (two GETs per host when 10,000 hosts were
// applied at once). A value is used only while the metadata-only Secret cache still shows the version it was read at,
// so a changed Secret is read again at once; a value not used for `idleMs` is dropped, so values do not linger.
import { CoreResources, type CacheReader, type KubeClient, type KubeObject } from '@anvil/core/kube';

export type SecretObject = KubeObject & { data?: Record<string, string> };

interface Entry {
  version: string;
  secret: Promise<SecretObject | undefined>;
  usedAt: number;
}

export class SecretValues {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly client: KubeClient,
    /** The metadata of the Secrets (resourceVersions). Without it nothing is kept: every call reads. */
    private readonly versions: CacheReader<KubeObject> | undefined,
    private readonly idleMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(namespace: string, name: string): Promise<SecretObject | undefined> {
    const now = this.now();
    this.dropIdle(now);
    const version = this.versions?.get(namespace, name)?.metadata.resourceVersion;
    // Not in the cache (not there yet, or gone): nothing to check a kept value against, so read it.
    if (version === undefined) return this.read(namespace, name);
    const key = `${namespace}/${name}`;
    const kept = this.entries.get(key);
    if (kept && kept.version === version) {
      kept.usedAt = now;
      return kept.secret;
    }
    const secret = this.read(namespace, name);
    const entry: Entry = { version, secret, usedAt: now };
    this.entries.set(key, entry);
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    // A failed read, or a Secret gone meanwhile, is not kept: the next render reads again.
    secret.then((s) => s ?? forget(), forget);
    return secret;
  }

  /** How many Secrets' values are held (for tests). */
  get size(): number {
    return this.entries.size;
  }

  private read(namespace: string, name: string): Promise<SecretObject | undefined> {
    return this.client.get<SecretObject>(CoreResources.secret, { namespace, name });
  }

  private dropIdle(now: number): void {
    for (const [key, entry] of this.entries) if (now - entry.usedAt >= this.idleMs) this.entries.delete(key);
  }
}
