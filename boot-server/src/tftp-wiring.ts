// Starts the TFTP server (iPXE binaries from the TFTP root, and the entry script from memory).
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BootServerConfig } from './config.js';

export async function startTftp(_config: BootServerConfig, _registry: Registry, log: Logger): Promise<{ port: number; stop(): Promise<void> } | undefined> {
  log.warn('TFTP is not wired yet in this build; serve iPXE over HTTP (chain http://<public-url>/boot.ipxe)');
  return undefined;
}
