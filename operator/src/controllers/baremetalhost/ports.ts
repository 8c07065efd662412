// What the BareMetalHost state machine needs from the outside world, as interfaces. The controller wires the
// Kubernetes-backed implementations; unit tests use in-memory fakes.
import type { BareMetalHost, BareMetalHostErrorType, InstallerKind } from '@anvil/core/api';
import type { BootConfig } from '@anvil/core/bootconfig';

export interface RenderedHost {
  /** The template's installer kind; unset for ubuntu-autoinstall. */
  installer?: InstallerKind;
  userData: string;
  metaData: string;
  networkConfig?: string;
  vendorData?: string;
  ignition?: string;
  preseed?: string;
  kernelArgs: string;
  boot: { kernel: { url: string; sha256: string }; initrd: { url: string; sha256: string }; iso?: { url: string; sha256: string } };
  templateChain: string[];
  /** The resolved chain's content hash (the template's status.contentHash for this content). */
  templateContentHash: string;
  contentHash: string;
  /** The fingerprint of the inputs this was rendered from (see HostPorts.renderInputs), when they can be known. */
  inputsHash?: string;
}

export type RenderFailure = { ok: false; errorType: BareMetalHostErrorType; reason: string; message: string };
export type RenderOutcome = { ok: true; rendered: RenderedHost } | RenderFailure;
export type ValidationOutcome = { ok: true; templateChain: string[] } | RenderFailure;

/** The identity a validation renders with: the host's revision, placeholders for the attempt's own values. */
export const validationIdentity = (host: BareMetalHost): InstallIdentity => ({
  revision: host.spec.provisioning?.revision ?? 0,
  attempt: 1,
  installationId: 'validation',
  token: 'validation',
});

export interface InstallIdentity {
  revision: number;
  attempt: number;
  installationId: string;
  token: string;
}

export interface HostUrls {
  bootServerURL: string;
  seedURL: string;
  webhookURL: string;
  /** Seconds the installer's webhook reporter sleeps before each retry of a failed POST (curtin's `retries`). */
  webhookRetries: readonly number[];
}

export interface HostPorts {
  /** Renders everything the host would receive for this install. */
  render(host: BareMetalHost, install: InstallIdentity): Promise<RenderOutcome>;
  /**
   * A fingerprint of everything a render for this identity reads (the host, its template chain, the versions of its
   * Secrets, anvil's URLs), from caches only: equal fingerprints render the same boot config. Undefined when the
   * inputs cannot be known without reading them (then every render is done).
   */
  renderInputs(host: BareMetalHost, install: InstallIdentity): string | undefined;
  /** Whether the host's template chain renders for it (a dry run with validationIdentity). */
  validate(host: BareMetalHost): Promise<ValidationOutcome>;
  urls(host: BareMetalHost, token: string): HostUrls;
  /** The boot config currently published for the host, if any (from the cache). */
  publishedBootConfig(host: BareMetalHost): BootConfig | undefined;
  publishBootConfig(host: BareMetalHost, config: BootConfig): Promise<{ secretName: string; hash: string }>;
  deleteBootConfig(host: BareMetalHost): Promise<void>;
  /** Other hosts declaring the same boot MAC. */
  hostsWithMac(mac: string): BareMetalHost[];
  event(host: BareMetalHost, type: 'Normal' | 'Warning', reason: string, note: string): void;
  newInstallationId(): string;
  newToken(): string;
  /** The revision number the template gave this content of its chain (status.revisions), if it has numbered it. */
  templateRevision(host: BareMetalHost, templateContentHash: string): number | undefined;
}

export interface StateMachineConfig {
  /** First retry delay after a failed attempt; doubles per retry. */
  retryBaseMs: number;
  retryMaxMs: number;
}

export const defaultStateMachineConfig: StateMachineConfig = { retryBaseMs: 30_000, retryMaxMs: 3_600_000 };
