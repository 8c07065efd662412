// The record of a boot request (an iPXE script or a NoCloud file served, or an unknown machine turned away), as the
// history and the host's status see it.
import { normalizeMac, type BootConfig } from '@anvil/core/bootconfig';
import type { BootRequestRecord } from '../spool/records.js';
import { redact } from './redact.js';
import { hostRef, installRef } from './webhook.js';

/** `path` is the request's path without its query. */
export const bootRequest = (clientIP: string, path: string, mac: string, served: string, config?: BootConfig, facts?: Record<string, string>): BootRequestRecord => ({
  kind: 'boot-request',
  time: new Date().toISOString(),
  mac: normalizeMac(mac),
  clientIP,
  path: redact(path),
  served,
  ...(config ? { host: hostRef(config) } : {}),
  ...(config?.install ? { installationId: config.install.installationId, install: installRef(config)! } : {}),
  ...(facts && Object.keys(facts).length ? { facts } : {}),
});
