// What the power controller needs from the outside world. The Kubernetes-backed implementation is kube-ports.ts;
// unit tests use fixture drivers and in-memory fakes.
import type { BareMetalHost } from '@anvil/core/api';
import type { PowerDriver } from '../../power/driver.js';

export interface PowerPorts {
  /**
   * The driver for the host's BMC, built from spec.bmc and its credentials Secret and reused while neither changes.
   * `created` is true when it was just built (credentials are then checked). Throws PowerError for a bad address or
   * a missing Secret.
   */
  driverFor(host: BareMetalHost): Promise<{ driver: PowerDriver; created: boolean }>;
  /** Closes and forgets the host's driver (host deleted, or spec.bmc removed). */
  forgetDriver(namespace: string, name: string): Promise<void>;
  /** The host as the API server has it now, not as the cache saw it: one-shot actions decide on this. */
  freshHost(host: BareMetalHost): Promise<BareMetalHost | undefined>;
  /** Whether the boot-server already serves the installer of this attempt (so a machine booting now gets it). */
  installerPublished(host: BareMetalHost, installationId: string): Promise<boolean>;
  /** Runs a power action within the operator-wide concurrency limit. */
  limit<T>(action: () => Promise<T>): Promise<T>;
  event(host: BareMetalHost, type: 'Normal' | 'Warning', reason: string, note: string): void;
}

export interface PowerControllerConfig {
  /** How often the power state is read. */
  pollIntervalMs: number;
  /** How soon to look again after an action (the state takes a moment to change). */
  afterActionPollMs: number;
  /** First retry delay after a BMC error; doubles per consecutive error of the host, up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How long a soft shutdown (spec.online false, Soft reboot) may take before power is cut. */
  softTimeoutMs: number;
}

export const defaultPowerControllerConfig: PowerControllerConfig = {
  pollIntervalMs: 60_000,
  afterActionPollMs: 5_000,
  backoffBaseMs: 5_000,
  backoffMaxMs: 300_000,
  softTimeoutMs: 120_000,
};
