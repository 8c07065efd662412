// The power driver contract (after metal3's provisioner interface): one implementation per BMC protocol, chosen by
// the scheme of spec.bmc.address, plus an in-memory fixture for tests. Drivers never touch Kubernetes.
import type { BootMode, PowerState } from '@anvil/core/api';

export type { PowerState };
export type PowerMode = 'Soft' | 'Hard';

/** What a driver can do; the controller adapts (e.g. a soft reboot becomes shutdown + power on). */
export interface DriverCapabilities {
  /** The power state can be read (false for Wake-on-LAN: a magic packet gets no answer). */
  readPowerState: boolean;
  powerOff: boolean;
  reset: boolean;
  /** A restart through the operating system in one request (Redfish GracefulRestart). */
  softReset: boolean;
  /** "Boot from the network once" can be set. */
  bootOnce: boolean;
}

export interface PowerDriver {
  /** The scheme of the address this driver talks to: ipmi, redfish, wol, proxmox, fixture. */
  readonly kind: string;
  readonly capabilities: DriverCapabilities;
  /** Checks that the BMC answers and accepts the credentials; throws PowerError otherwise. */
  validate(): Promise<void>;
  powerState(): Promise<PowerState>;
  powerOn(): Promise<void>;
  /** Soft asks the operating system to shut down (ACPI); Hard cuts power. */
  powerOff(mode: PowerMode): Promise<void>;
  /** Hard resets at once; Soft restarts through the operating system (only if capabilities.softReset). */
  reset(mode: PowerMode): Promise<void>;
  /** The next boot (only) goes to the network (PXE); later boots use the normal order again. */
  setNextBootNetwork(): Promise<void>;
  /** Releases sessions and sockets. */
  close(): Promise<void>;
}

/**
 * Why a BMC call failed, in terms a user can act on:
 * Unreachable (no answer: address, network, BMC down), Timeout (answered too slowly), Unauthorized (wrong
 * credentials or not enough privilege), Unsupported (the BMC or driver cannot do this), Protocol (an answer we
 * could not use), InvalidConfig (bad address or credentials Secret: fix the spec).
 */
export type PowerErrorKind = 'Unreachable' | 'Timeout' | 'Unauthorized' | 'Unsupported' | 'Protocol' | 'InvalidConfig';

export class PowerError extends Error {
  constructor(
    readonly kind: PowerErrorKind,
    message: string,
    /** A CamelCase reason more specific than the kind, for conditions (e.g. CertificateNotTrusted). */
    readonly reason: string = kind,
  ) {
    super(message);
    this.name = 'PowerError';
  }
}

export const isPowerError = (err: unknown): err is PowerError => err instanceof PowerError;

/** Credentials from the Secret named in spec.bmc.credentialsSecretRef (string values, already decoded). */
export type BmcCredentials = Readonly<Record<string, string>>;

/** Everything a driver is built from. */
export interface DriverOptions {
  address: string;
  credentials: BmcCredentials;
  /** spec.bmc.disableCertificateVerification */
  insecureTLS: boolean;
  /** spec.bootMACAddress: the Wake-on-LAN target. */
  bootMAC: string;
  /** spec.bootMode: UEFI or legacy network boot. */
  bootMode: BootMode;
  /** Upper bound of one BMC request. */
  timeoutMs: number;
}
