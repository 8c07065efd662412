// What the BareMetalHost state machine needs from the outside world, as interfaces. The controller wires the
// Kubernetes-backed implementations; unit tests use in-memory fakes.
import type { BareMetalHost, BareMetalHostErrorType } from '../../../../shared/src/api/index.js';
import type { BootConfig } from '../../../../shared/src/bootconfig/boot-config.js';

export interface RenderedHost {
  userData: string;
  metaData: string;
  networkConfig?: string;
  vendorData?: string;
  kernelArgs: string;
  boot: { kernel: { url: string; sha256: string }; initrd: { url: string; sha256: string }; iso?: { url: string; sha256: string } };
  templateChain: string[];
  contentHash: string;
}

export type RenderOutcome = { ok: true; rendered: RenderedHost } | { ok: false; errorType: BareMetalHostErrorType; reason: string; message: string };

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
}

export interface HostPorts {
  /** Renders everything the host would receive for this install (or a dry run with a placeholder identity). */
  render(host: BareMetalHost, install: InstallIdentity): Promise<RenderOutcome>;
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
}

export interface StateMachineConfig {
  /** First retry delay after a failed attempt; doubles per retry. */
  retryBaseMs: number;
  retryMaxMs: number;
}

export const defaultStateMachineConfig: StateMachineConfig = { retryBaseMs: 30_000, retryMaxMs: 3_600_000 };
