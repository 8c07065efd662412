// Starts the proxyDHCP of the boot-server process: machines are known by the boot configs the index holds. With a
// managed pool it is the network's DHCP server too, its leases in `leaseFile` (the spool's volume).
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BootConfigIndex } from '../bootconfigs/index.js';
import type { ProxyDhcpConfig } from './config.js';
import { intToIp, LeaseTable } from './managed/lease-table.js';
import { ProxyDhcpServer } from './server.js';

export async function startProxyDhcp(
  config: ProxyDhcpConfig,
  publicURL: string,
  index: Pick<BootConfigIndex, 'byMac' | 'reserved'>,
  registry: Registry,
  log: Logger,
  leaseFile: string,
): Promise<{ describe: string; stop(): Promise<void> }> {
  const m = config.managed;
  const table = m ? new LeaseTable(m.pool, leaseFile, { reservationOf: (mac) => index.byMac(mac)?.reservedAddress, reserved: () => index.reserved() }) : undefined;
  const server = new ProxyDhcpServer({
    policy: { serverAddress: config.serverAddress, httpBaseURL: publicURL, answerUnknown: config.answerUnknown, bootFiles: config.bootFiles },
    isKnownMac: (mac) => index.byMac(mac) !== undefined,
    host: config.host,
    sendFrom: config.serverAddress,
    dhcpPort: config.dhcpPort,
    pxePort: config.pxePort,
    clientPort: config.clientPort,
    broadcastAddress: config.broadcastAddress,
    ...(m && table ? { managed: { table, policy: { netmask: m.netmask, router: m.router, dns: m.dns, leaseSeconds: m.leaseSeconds } } } : {}),
    registry,
    log: log.child({ component: 'proxy-dhcp' }),
  });
  const { dhcpPort, pxePort } = await server.start();
  const managed = m ? `, managed DHCP ${intToIp(m.pool.start)}-${intToIp(m.pool.end)}` : '';
  return { describe: `${config.host}:${dhcpPort}+${pxePort} as ${config.serverAddress}${managed}`, stop: () => server.stop() };
}
