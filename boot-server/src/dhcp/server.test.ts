// The proxyDHCP over real UDP sockets on loopback, random ports: "broadcast" answers go to 127.0.0.1 at the test
// client's port (a test must not broadcast on the machine's networks).
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { DhcpOption } from './codes.js';
import { parseDhcp } from './packet.js';
import { ProxyDhcpServer, type ProxyDhcpServerOptions } from './server.js';
import { answerProblems, clients } from './testing/requests.js';

const KNOWN = '52:54:00:10:00:01';
const OTHER_KNOWN = '52:54:00:10:00:02';
const SERVER = '127.0.0.1';

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Client {
  socket: Socket;
  port: number;
  received: Buffer[];
}

async function client(): Promise<Client> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { socket, port: (socket.address() as AddressInfo).port, received };
}

const send = (c: Client, buf: Buffer, port: number): Promise<void> => new Promise((resolve, reject) => c.socket.send(buf, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));

describe('ProxyDhcpServer over loopback UDP', () => {
  let server: ProxyDhcpServer | undefined;
  let clients_: Client[] = [];
  let registry: Registry;

  const start = async (c: Client, extra: Partial<ProxyDhcpServerOptions> = {}) => {
    registry = new Registry();
    server = new ProxyDhcpServer({
      policy: { serverAddress: SERVER, httpBaseURL: 'http://127.0.0.1:8080', answerUnknown: false, bootFiles: { bios: 'undionly.kpxe', uefiX64: 'snponly.efi' } },
      isKnownMac: (mac) => mac === KNOWN || mac === OTHER_KNOWN,
      host: '127.0.0.1',
      dhcpPort: 0,
      pxePort: 0,
      clientPort: c.port,
      broadcastAddress: '127.0.0.1',
      registry,
      ...extra,
    });
    return server.start();
  };
  const newClient = async (): Promise<Client> => {
    const c = await client();
    clients_.push(c);
    return c;
  };
  const count = async (result: string): Promise<number> => {
    const metric = await registry.getSingleMetric('anvil_dhcp_packets_total')?.get();
    return metric?.values.find((v) => v.labels.result === result)?.value ?? 0;
  };

  afterEach(async () => {
    await server?.stop();
    server = undefined;
    await Promise.all(clients_.map((c) => new Promise<void>((r) => c.socket.close(() => r()))));
    clients_ = [];
  });

  it('answers a DISCOVER by "broadcast" to the client port and a ProxyDHCPREQUEST on 4011 by unicast', async () => {
    const firmware = await newClient();
    const { dhcpPort, pxePort } = await start(firmware);
    const discover = clients.biosPxeRom(KNOWN);
    await send(firmware, discover, dhcpPort);
    await waitFor('the OFFER', () => firmware.received.length === 1);
    expect(answerProblems(firmware.received[0]!, discover, SERVER)).toEqual([]);
    const offer = parseDhcp(firmware.received[0]!);
    expect(offer.ok && offer.packet.file).toBe('undionly.kpxe');

    const ipxe = await newClient(); // another source port: the ACK must go back to the sender, not the client port
    const request = clients.ipxeProxyRequest(KNOWN, '127.0.0.1', SERVER);
    await send(ipxe, request, pxePort);
    await waitFor('the ACK', () => ipxe.received.length === 1);
    expect(answerProblems(ipxe.received[0]!, request, SERVER)).toEqual([]);
    const ack = parseDhcp(ipxe.received[0]!);
    expect(ack.ok && [ack.packet.options.get(DhcpOption.MessageType)?.[0], ack.packet.file]).toEqual([5, 'http://127.0.0.1:8080/boot.ipxe']);
    expect([await count('offer'), await count('ack')]).toEqual([1, 1]);
  });

  it('drops and counts garbage, unknown MACs and the wrong message for the port, and keeps answering', async () => {
    const c = await newClient();
    const { dhcpPort, pxePort } = await start(c);
    await send(c, Buffer.from('definitely not DHCP'), dhcpPort);
    await send(c, Buffer.alloc(0), pxePort);
    await send(c, clients.biosPxeRom('52:54:00:66:66:66'), dhcpPort);
    await send(c, clients.biosPxeRom(KNOWN), pxePort);
    await waitFor('four counted drops', async () => (await count('malformed')) === 2 && (await count('unknown_mac')) === 1 && (await count('wrong_message')) === 1);
    await send(c, clients.ovmfX64(KNOWN), dhcpPort);
    await waitFor('the OFFER after the garbage', () => c.received.length === 1);
    const offer = parseDhcp(c.received[0]!);
    expect(offer.ok && offer.packet.file).toBe('snponly.efi');
    expect(await count('offer')).toBe(1);
  });

  it('rate-limits answers per MAC, not per network', async () => {
    const c = await newClient();
    const { dhcpPort } = await start(c, { rateLimit: { perSecond: 0.001, burst: 2 } });
    for (let i = 0; i < 4; i++) await send(c, clients.biosPxeRom(KNOWN), dhcpPort);
    await waitFor('four handled', async () => (await count('offer')) + (await count('rate_limited')) === 4);
    expect([await count('offer'), await count('rate_limited')]).toEqual([2, 2]);
    await send(c, clients.biosPxeRom(OTHER_KNOWN), dhcpPort);
    await waitFor('an answer to another machine', async () => (await count('offer')) === 3);
  });

  it('with sendFrom, binds an answering socket on that address and the DHCP port, and answers from it', async () => {
    const c = await newClient();
    const senders: { address: string; port: number }[] = [];
    c.socket.on('message', (_m, rinfo) => senders.push({ address: rinfo.address, port: rinfo.port }));
    const { dhcpPort } = await start(c, { host: '0.0.0.0', sendFrom: '127.0.0.1' });
    await send(c, clients.biosPxeRom(KNOWN), dhcpPort);
    await waitFor('the OFFER', () => c.received.length === 1);
    expect(senders).toEqual([{ address: '127.0.0.1', port: dhcpPort }]);
  });

  it('fails to start with the bind error and leaves no socket behind when a port is taken', async () => {
    const c = await newClient();
    const taken = await newClient();
    await expect(start(c, { pxePort: taken.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    server = undefined; // nothing to stop: start() closed the socket it had bound
  });
});
