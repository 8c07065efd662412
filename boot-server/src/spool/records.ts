// What the boot-server spools: everything it must not lose between accepting it and storing it.
import type { InstallerEvent } from '@anvil/core/install';

export interface HostRef {
  namespace: string;
  name: string;
  uid: string;
}

/** Which install a record belongs to, as the published boot config said. */
export interface InstallRef {
  installationId: string;
  revision: number;
  attempt: number;
  template?: { name: string; contentHash: string };
}

export interface InstallerEventRecord {
  kind: 'installer-event';
  receivedAt: string;
  mac: string;
  host: HostRef;
  installationId: string;
  install?: InstallRef;
  eventKey: string;
  event: InstallerEvent;
  /** The body as the installer sent it, sanitised (validated fields are in `event`). */
  raw: Record<string, unknown>;
  /** Accepted in the grace period after the installation's verdict: recorded, but changes no verdict or phase. */
  afterVerdict?: boolean;
}

export interface BootRequestRecord {
  kind: 'boot-request';
  time: string;
  mac: string;
  clientIP: string;
  path: string;
  served: string;
  host?: HostRef;
  installationId?: string;
  install?: InstallRef;
  /** iPXE facts, when the request carried them (arch, platform, uuid). */
  facts?: Record<string, string>;
}

export type SpoolRecord = InstallerEventRecord | BootRequestRecord;
