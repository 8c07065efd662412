// Starts the TFTP server: iPXE binaries from the TFTP root, and the entry script (boot.ipxe) from memory.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BootServerConfig } from './config.js';
import { entryScript } from './http/ipxe-scripts.js';
import { TftpServer, VirtualFiles } from './tftp/index.js';

export async function startTftp(config: BootServerConfig, registry: Registry, log: Logger): Promise<{ port: number; stop(): Promise<void> }> {
  const virtualFiles = new VirtualFiles({ 'boot.ipxe': entryScript(config.publicURL) });
  const server = new TftpServer({ host: config.tftpHost, port: config.tftpPort, root: config.tftpRoot, maxSessions: config.tftpMaxSessions, maxSessionsPerClient: config.tftpMaxSessionsPerClient, virtualFiles, registry, log: log.child({ component: 'tftp' }) });
  const { port } = await server.start();
  return { port, stop: () => server.stop() };
}
