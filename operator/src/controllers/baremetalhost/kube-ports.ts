// HostPorts backed by the API server and the informer caches.
import { randomUUID } from 'node:crypto';
import type { AutoinstallTemplate, BareMetalHost } from '@anvil/core/api';
import {
  CONTENT_HASH_ANNOTATION,
  bootConfigSecretName,
  fromSecret,
  macDashed,
  newToken,
  normalizeMac,
  toSecret,
  type BootConfig,
} from '@anvil/core/bootconfig';
import { CoreResources, isAlreadyExists, isNotFound, type CacheReader, type IndexedCacheReader, type KubeClient, type KubeObject } from '@anvil/core/kube';
import type { EventRecorder } from '../../runtime/events.js';
import { setControllerReference } from '../../runtime/owner-references.js';
import { validationIdentity, type HostPorts, type HostUrls, type InstallIdentity, type RenderOutcome, type ValidationOutcome } from './ports.js';

/** Renders a host, and fingerprints what a render would read (see HostPorts.renderInputs). */
export interface HostRenderer {
  render(host: BareMetalHost, install: InstallIdentity, urls: HostUrls): Promise<RenderOutcome>;
  inputsHash(host: BareMetalHost, install: InstallIdentity, urls: HostUrls): string | undefined;
}

/** Validations remembered (by host uid) while their inputs are unchanged; beyond this many the oldest is forgotten. */
const MAX_REMEMBERED_VALIDATIONS = 100_000;
/** Outcomes that depend on the machine's load, not only on the inputs: never remembered. */
const UNSTABLE_REASONS = new Set(['RenderTimeout', 'RenderTooLarge']);

export interface KubeHostPortsDeps {
  client: KubeClient;
  /** Must carry the HOST_MAC_INDEX index (hostMacIndex). */
  hosts: IndexedCacheReader<BareMetalHost>;
  bootConfigs: CacheReader<KubeObject>;
  /** The AutoinstallTemplates (their status.revisions number the contents hosts are installed with). */
  templates?: CacheReader<AutoinstallTemplate>;
  recorder: EventRecorder;
  render: HostRenderer;
  /** Base URL machines reach the boot-server at, e.g. http://10.0.0.2:8080 */
  bootServerURL: string;
  /** Seconds the installer's webhook reporter sleeps before each retry of a failed POST; none when unset. */
  webhookRetries?: readonly number[];
}

/** Hosts by normalized boot MAC: the duplicate-MAC check runs on every reconcile and every host event. */
export const HOST_MAC_INDEX = 'bootMAC';
export const hostMacIndex = (host: BareMetalHost): string[] => (host.spec?.bootMACAddress ? [normalizeMac(host.spec.bootMACAddress)] : []);

/** Hosts by the Secrets they reference, as `namespace/name`: a changed Secret re-validates them. */
export const HOST_SECRET_INDEX = 'secretRef';
export const hostSecretIndex = (host: BareMetalHost): string[] => [...new Set((host.spec?.secretRefs ?? []).map((r) => `${host.metadata.namespace}/${r.name}`))];

export class KubeHostPorts implements HostPorts {
  private readonly validations = new Map<string, { inputs: string; outcome: ValidationOutcome }>();

  constructor(private readonly deps: KubeHostPortsDeps) {}

  render(host: BareMetalHost, install: InstallIdentity): Promise<RenderOutcome> {
    return this.deps.render.render(host, install, this.urls(host, install.token));
  }

  templateRevision(host: BareMetalHost, templateContentHash: string): number | undefined {
    const template = host.spec.templateRef?.name ? this.deps.templates?.get(host.metadata.namespace, host.spec.templateRef.name) : undefined;
    return template?.status?.revisions?.find((r) => r.contentHash === templateContentHash)?.revision;
  }

  renderInputs(host: BareMetalHost, install: InstallIdentity): string | undefined {
    return this.deps.render.inputsHash(host, install, this.urls(host, install.token));
  }

  async validate(host: BareMetalHost): Promise<ValidationOutcome> {
    const identity = validationIdentity(host);
    const key = host.metadata.uid ?? `${host.metadata.namespace}/${host.metadata.name}`;
    const inputs = this.renderInputs(host, identity);
    const known = this.validations.get(key);
    if (inputs !== undefined && known?.inputs === inputs) return known.outcome;
    const rendered = await this.render(host, identity);
    const outcome: ValidationOutcome = rendered.ok ? { ok: true, templateChain: rendered.rendered.templateChain } : rendered;
    if (inputs !== undefined && (outcome.ok || !UNSTABLE_REASONS.has(outcome.reason))) {
      this.validations.delete(key);
      if (this.validations.size >= MAX_REMEMBERED_VALIDATIONS) this.validations.delete(this.validations.keys().next().value!);
      this.validations.set(key, { inputs, outcome });
    } else {
      this.validations.delete(key);
    }
    return outcome;
  }

  urls(host: BareMetalHost, token: string): HostUrls {
    const base = this.deps.bootServerURL.replace(/\/+$/, '');
    const mac = macDashed(host.spec.bootMACAddress);
    return {
      bootServerURL: base,
      seedURL: `${base}/nocloud/${mac}/${token}/`,
      webhookURL: `${base}/webhook/${mac}/${token}`,
      webhookRetries: this.deps.webhookRetries ?? [],
    };
  }

  publishedBootConfig(host: BareMetalHost): BootConfig | undefined {
    const secret = this.deps.bootConfigs.get(host.metadata.namespace, bootConfigSecretName(host.metadata.name!));
    return secret ? fromSecret(secret) : undefined;
  }

  async publishBootConfig(host: BareMetalHost, config: BootConfig): Promise<{ secretName: string; hash: string }> {
    const desired = toSecret(config, host.metadata.namespace!);
    setControllerReference(desired, host);
    const name = desired.metadata.name!;
    const hash = desired.metadata.annotations![CONTENT_HASH_ANNOTATION]!;
    const key = { namespace: host.metadata.namespace, name };
    let existing = this.deps.bootConfigs.get(host.metadata.namespace, name);
    if (!existing) {
      // Not in the cache: almost always a new host. Create it; if it exists after all (a cache that lags), read it.
      try {
        await this.deps.client.create(CoreResources.secret, desired);
        return { secretName: name, hash };
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      existing = await this.deps.client.get(CoreResources.secret, key);
      if (!existing) throw new Error(`boot config Secret ${host.metadata.namespace}/${name} exists and vanished while being published; will retry`);
    }
    if (existing.metadata.annotations?.[CONTENT_HASH_ANNOTATION] !== hash || !existing.metadata.ownerReferences?.some((r) => r.uid === host.metadata.uid)) {
      // A full replace guarded by resourceVersion: keys the new config no longer has (the token, user-data) disappear.
      desired.metadata.resourceVersion = existing.metadata.resourceVersion!;
      await this.deps.client.replace(CoreResources.secret, desired);
    }
    return { secretName: name, hash };
  }

  async deleteBootConfig(host: BareMetalHost): Promise<void> {
    this.validations.delete(host.metadata.uid ?? `${host.metadata.namespace}/${host.metadata.name}`);
    try {
      await this.deps.client.delete(CoreResources.secret, { namespace: host.metadata.namespace, name: bootConfigSecretName(host.metadata.name!) });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  hostsWithMac(mac: string): BareMetalHost[] {
    return this.deps.hosts.byIndex(HOST_MAC_INDEX, normalizeMac(mac)).filter((h) => !h.metadata.deletionTimestamp);
  }

  event(host: BareMetalHost, type: 'Normal' | 'Warning', reason: string, note: string): void {
    this.deps.recorder.event(host, type, reason, 'Provision', note);
  }

  newInstallationId(): string {
    return randomUUID();
  }

  newToken(): string {
    return newToken();
  }
}
