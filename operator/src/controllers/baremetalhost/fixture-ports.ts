// In-memory HostPorts: the fixture implementation for unit tests and demos (like metal3's fixture provisioner).
import type { BareMetalHost } from '@anvil/core/api';
import { bootConfigHash, macDashed, normalizeMac, sha256Hex, type BootConfig } from '@anvil/core/bootconfig';
import { validationIdentity, type HostPorts, type HostUrls, type InstallIdentity, type RenderOutcome, type ValidationOutcome } from './ports.js';

export class FixtureHostPorts implements HostPorts {
  readonly published = new Map<string, BootConfig>();
  readonly events: { host: string; type: string; reason: string; note: string }[] = [];
  hosts: BareMetalHost[] = [];
  renderOutcome: (host: BareMetalHost, install: InstallIdentity) => RenderOutcome = (host, install) => ({
    ok: true,
    rendered: {
      userData: `#cloud-config\nautoinstall:\n  version: 1\n  reporting:\n    anvil:\n      type: webhook\n      endpoint: ${this.urls(host, install.token).webhookURL}\n`,
      metaData: `instance-id: ${host.metadata.name}-${install.revision}-${install.attempt}\n`,
      kernelArgs: `autoinstall ds=nocloud-net;s=${this.urls(host, install.token).seedURL}`,
      boot: { kernel: { url: 'http://mirror/vmlinuz', sha256: 'a'.repeat(64) }, initrd: { url: 'http://mirror/initrd', sha256: 'b'.repeat(64) } },
      templateChain: [host.spec.templateRef?.name ?? '?'],
      templateContentHash: `sha256:${sha256Hex(host.spec.templateRef?.name ?? '?')}`,
      contentHash: sha256Hex(`${host.metadata.name}${install.token}`),
    },
  });
  /** What renderInputs returns; undefined (the default) means every publish renders. */
  inputs: (host: BareMetalHost, install: InstallIdentity) => string | undefined = () => undefined;
  /** The templates' revisions by content hash (what the template controller numbered). */
  revisions = new Map<string, number>();
  renders = 0;
  private ids = 0;
  private tokens = 0;

  templateRevision(_host: BareMetalHost, templateContentHash: string): number | undefined {
    return this.revisions.get(templateContentHash);
  }

  async render(host: BareMetalHost, install: InstallIdentity): Promise<RenderOutcome> {
    this.renders++;
    const outcome = this.renderOutcome(host, install);
    const inputsHash = this.inputs(host, install);
    return outcome.ok && inputsHash !== undefined ? { ok: true, rendered: { ...outcome.rendered, inputsHash } } : outcome;
  }

  renderInputs(host: BareMetalHost, install: InstallIdentity): string | undefined {
    return this.inputs(host, install);
  }

  async validate(host: BareMetalHost): Promise<ValidationOutcome> {
    const outcome = await this.render(host, validationIdentity(host));
    return outcome.ok ? { ok: true, templateChain: outcome.rendered.templateChain } : outcome;
  }

  urls(host: BareMetalHost, token: string): HostUrls {
    const base = 'http://boot.test:8080';
    const mac = macDashed(host.spec.bootMACAddress);
    return { bootServerURL: base, seedURL: `${base}/nocloud/${mac}/${token}/`, webhookURL: `${base}/webhook/${mac}/${token}`, webhookRetries: [] };
  }

  publishedBootConfig(host: BareMetalHost): BootConfig | undefined {
    return this.published.get(`${host.metadata.namespace}/${host.metadata.name}`);
  }

  async publishBootConfig(host: BareMetalHost, config: BootConfig): Promise<{ secretName: string; hash: string }> {
    this.published.set(`${host.metadata.namespace}/${host.metadata.name}`, config);
    return { secretName: `${host.metadata.name}-bootconfig`, hash: bootConfigHash(config) };
  }

  async deleteBootConfig(host: BareMetalHost): Promise<void> {
    this.published.delete(`${host.metadata.namespace}/${host.metadata.name}`);
  }

  hostsWithMac(mac: string): BareMetalHost[] {
    return this.hosts.filter((h) => normalizeMac(h.spec.bootMACAddress) === normalizeMac(mac));
  }

  event(host: BareMetalHost, type: 'Normal' | 'Warning', reason: string, note: string): void {
    this.events.push({ host: `${host.metadata.namespace}/${host.metadata.name}`, type, reason, note });
  }

  newInstallationId(): string {
    return `00000000-0000-4000-8000-${String(++this.ids).padStart(12, '0')}`;
  }

  newToken(): string {
    return `token-${++this.tokens}`;
  }
}
