// Starts the proxyDHCP of the boot-server process: machines are known by the boot configs the index holds.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BootConfigIndex } from '../bootconfigs/index.js';
import type { ProxyDhcpConfig } from './config.js';
import { ProxyDhcpServer } from './server.js';

export async function startProxyDhcp(config: ProxyDhcpConfig, publicURL: string, index: Pick<BootConfigIndex, 'byMac'>, registry: Registry, log: Logger): Promise<{ describe: string; stop(): Promise<void> }> {
  const server = new ProxyDhcpServer({
    policy: { serverAddress: config.serverAddress, httpBaseURL: publicURL, answerUnknown: config.answerUnknown, bootFiles: config.bootFiles },
    isKnownMac: (mac) => index.byMac(mac) !== undefined,
    host: config.host,
    sendFrom: config.serverAddress,
    dhcpPort: config.dhcpPort,
    pxePort: config.pxePort,
    clientPort: config.clientPort,
    broadcastAddress: config.broadcastAddress,
    registry,
    log: log.child({ component: 'proxy-dhcp' }),
  });
  const { dhcpPort, pxePort } = await server.start();
  return { describe: `${config.host}:${dhcpPort}+${pxePort} as ${config.serverAddress}`, stop: () => server.stop() };
}
