// Fakes of the dashboard's ports for unit tests: hosts in memory with changes pushed by hand, and an authorizer with
// a fixed token table and RBAC table.
import type { AutoinstallTemplate, BareMetalHost, ProxmoxTemplate } from '@anvil/core/api';
import { HostWriteError, type Authorizer, type HostChange, type HostSource, type HostWriter, type ListedResource, type TemplateSource, type UserInfo } from '../ports.js';

export class FakeHostSource implements HostSource {
  private readonly hosts = new Map<string, BareMetalHost>();
  private readonly listeners = new Set<(c: HostChange) => void>();

  constructor(hosts: BareMetalHost[] = []) {
    for (const h of hosts) this.hosts.set(`${h.metadata.namespace}/${h.metadata.name}`, h);
  }

  list(): BareMetalHost[] {
    return [...this.hosts.values()];
  }

  get(namespace: string, name: string): BareMetalHost | undefined {
    return this.hosts.get(`${namespace}/${name}`);
  }

  watch(listener: (c: HostChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get watchers(): number {
    return this.listeners.size;
  }

  /** Adds or replaces a host and tells the watchers, as an informer would. */
  put(host: BareMetalHost): void {
    const key = `${host.metadata.namespace}/${host.metadata.name}`;
    const type = this.hosts.has(key) ? 'changed' : 'added';
    this.hosts.set(key, host);
    for (const l of this.listeners) l({ type, host });
  }

  remove(namespace: string, name: string): void {
    const host = this.hosts.get(`${namespace}/${name}`);
    if (!host) return;
    this.hosts.delete(`${namespace}/${name}`);
    for (const l of this.listeners) l({ type: 'removed', host });
  }
}

export class FakeAuthorizer implements Authorizer {
  reviews = 0;
  constructor(
    /** token -> user */
    readonly users: Record<string, UserInfo>,
    /** username -> namespaces it may list hosts in ('*': all) */
    readonly rbac: Record<string, string[]>,
    /** Per resource other than baremetalhosts: username -> namespaces (a resource not named here follows `rbac`). */
    readonly resourceRbac: Partial<Record<ListedResource, Record<string, string[]>>> = {},
  ) {}

  async authenticate(token: string): Promise<UserInfo | undefined> {
    this.reviews++;
    return this.users[token];
  }

  async mayListHosts(user: UserInfo, namespace: string | undefined): Promise<boolean> {
    return this.mayList(user, 'baremetalhosts', namespace);
  }

  async mayList(user: UserInfo, resource: ListedResource, namespace: string | undefined): Promise<boolean> {
    const allowed = (this.resourceRbac[resource] ?? this.rbac)[user.username] ?? [];
    return allowed.includes('*') || (namespace !== undefined && allowed.includes(namespace));
  }

  /** username -> namespaces it may patch hosts in ('*': all); nobody unless listed. */
  patchRbac: Record<string, string[]> = {};

  async mayPatchHost(user: UserInfo, namespace: string): Promise<boolean> {
    const allowed = this.patchRbac[user.username] ?? [];
    return allowed.includes('*') || allowed.includes(namespace);
  }

  /** username -> namespaces it may get Secrets in ('*': all); nobody unless listed. */
  secretRbac: Record<string, string[]> = {};

  async mayGetSecrets(user: UserInfo, namespace: string): Promise<boolean> {
    const allowed = this.secretRbac[user.username] ?? [];
    return allowed.includes('*') || allowed.includes(namespace);
  }

  /** username -> namespaces it may list events in ('*': all); nobody unless listed. */
  eventRbac: Record<string, string[]> = {};

  async mayListEvents(user: UserInfo, namespace: string): Promise<boolean> {
    const allowed = this.eventRbac[user.username] ?? [];
    return allowed.includes('*') || allowed.includes(namespace);
  }
}

/** Applies the actions' JSON patches to a FakeHostSource (test and add/replace ops, as the API server would). */
export class FakeHostWriter implements HostWriter {
  readonly patches: { namespace: string; name: string; ops: unknown[] }[] = [];
  readonly recorded: string[] = [];
  constructor(private readonly hosts: FakeHostSource) {}

  async patchHost(namespace: string, name: string, ops: readonly unknown[]): Promise<void> {
    const host = this.hosts.get(namespace, name);
    if (!host) throw new HostWriteError(404, `no BareMetalHost ${namespace}/${name}`);
    const next = structuredClone(host) as unknown as Record<string, unknown>;
    for (const { op, path, value } of ops as { op: string; path: string; value: unknown }[]) {
      const keys = path.split('/').slice(1).map((k) => k.replace('~1', '/').replace('~0', '~'));
      const last = keys.pop()!;
      let parent = next;
      for (const k of keys) parent = parent[k] as Record<string, unknown>;
      if (op === 'test' && JSON.stringify(parent[last]) !== JSON.stringify(value)) throw new HostWriteError(409, `test of ${path} failed`);
      if (op === 'add' || op === 'replace') parent[last] = value;
    }
    this.patches.push({ namespace, name, ops: [...ops] });
    this.hosts.put(next as unknown as BareMetalHost);
  }

  recordAction(host: { namespace: string; name: string }, action: string, note: string): void {
    this.recorded.push(`${host.namespace}/${host.name} ${action}: ${note}`);
  }
}

export class FakeTemplateSource implements TemplateSource {
  constructor(
    readonly autoinstall: AutoinstallTemplate[] = [],
    readonly proxmox: ProxmoxTemplate[] = [],
  ) {}

  listAutoinstallTemplates(): AutoinstallTemplate[] {
    return this.autoinstall;
  }

  listProxmoxTemplates(): ProxmoxTemplate[] {
    return this.proxmox;
  }
}

export function fakeHost(namespace: string, name: string, opts: { state?: string; labels?: Record<string, string>; phase?: string; attempt?: number } = {}): BareMetalHost {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { namespace, name, resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z', ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: {
      bootMACAddress: '52:54:00:00:00:01',
      templateRef: { name: 'ubuntu' },
      provisioning: { revision: 2 },
      secretRefs: [{ name: 'root-password', key: 'hash', variable: 'passwordHash' }],
      variables: { apiKey: 'hunter2-variable' },
      bmc: { address: 'redfish://admin:bmc-secret@10.0.0.1/redfish/v1/Systems/1', credentialsSecretRef: { name: 'bmc' } },
    },
    status: {
      ...(opts.state ? { state: opts.state as NonNullable<BareMetalHost['status']>['state'] } : {}),
      ...(opts.phase || opts.attempt ? { currentInstall: { attempt: opts.attempt ?? 1, revision: 2, startedAt: '2026-01-01T00:01:00Z', ...(opts.phase ? { phase: opts.phase } : {}) } } : {}),
    },
  } as BareMetalHost;
}
