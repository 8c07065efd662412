// The boot-server process with --proxy-dhcp, against a real API server, over loopback UDP on ports of this run: a PXE
// client is answered once its BareMetalHost's boot config is published and no longer once it is gone; iPXE is sent
// to the HTTP entry script, which the same process serves; garbage is counted, never fatal. Broadcast answers go to
// 127.0.0.1 (--proxy-dhcp-broadcast) at the test client's port: nothing leaves loopback.
import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { toSecret } from '@anvil/core/bootconfig';
import { CoreResources, type KubeClient } from '@anvil/core/kube';
import { parseDhcp } from '@anvil/boot-server/src/dhcp/packet.js';
import { answerProblems, clients } from '@anvil/boot-server/src/dhcp/testing/requests.js';
import { installConfig } from '@anvil/boot-server/src/http/testing/serve-boot-app.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, waitFor } from '../harness/kube.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';

jest.setTimeout(180_000);

const MAC = `52:54:00:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`;

async function udpSocket(): Promise<{ socket: Socket; port: number; received: Buffer[] }> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { socket, port: (socket.address() as AddressInfo).port, received };
}

/** A UDP port free right now (bound and released), for the process to bind. */
async function freeUdpPort(): Promise<number> {
  const { socket, port } = await udpSocket();
  await new Promise<void>((r) => socket.close(() => r()));
  return port;
}

describe('boot-server --proxy-dhcp', () => {
  const ns = `proxydhcp-${randomBytes(3).toString('hex')}`;
  let cp: ControlPlane;
  let client: KubeClient;
  let boot: RunningProcess;
  let firmware: Awaited<ReturnType<typeof udpSocket>>;
  let dhcpPort: number;
  let pxePort: number;

  beforeAll(async () => {
    firmware = await udpSocket();
    [dhcpPort, pxePort] = [await freeUdpPort(), await freeUdpPort()];
    cp = await startControlPlane();
    client = clientFor(cp);
    await ensureNamespace(client, ns);
    boot = await startBootServer({
      kubeconfig: cp.kubeconfigPath,
      extraArgs: [
        '--namespace', ns, '--proxy-dhcp', 'true', '--proxy-dhcp-address', '127.0.0.1', '--proxy-dhcp-host', '127.0.0.1',
        '--proxy-dhcp-port', String(dhcpPort), '--proxy-dhcp-pxe-port', String(pxePort),
        '--proxy-dhcp-client-port', String(firmware.port), '--proxy-dhcp-broadcast', '127.0.0.1',
      ],
    });
  });

  afterAll(async () => {
    await boot?.kill();
    if (boot) rmSync(boot.dir, { recursive: true, force: true });
    await cp?.stop();
    await new Promise<void>((r) => (firmware ? firmware.socket.close(() => r()) : r()));
  });

  const send = (buf: Buffer, port = dhcpPort): Promise<void> => new Promise((resolve, reject) => firmware.socket.send(buf, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  const counted = async (result: string): Promise<number> => {
    const text = await (await fetch(`${boot.url}/metrics`)).text();
    return Number(new RegExp(`^anvil_dhcp_packets_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  };
  /** Sends `request` again every half second, as PXE firmware does, until an answer arrives. */
  const answerTo = (request: Buffer): Promise<Buffer> =>
    waitFor('a proxyDHCP answer', async () => {
      if (firmware.received.length) return firmware.received.shift();
      await send(request);
      await new Promise((r) => setTimeout(r, 500));
      return firmware.received.shift();
    });

  it('ignores a machine no BareMetalHost declares, and counts it', async () => {
    await send(clients.biosPxeRom(MAC));
    await waitFor('the unknown MAC counted', async () => (await counted('unknown_mac')) >= 1);
    expect(firmware.received).toEqual([]);
  });

  it('answers firmware with the iPXE binary and iPXE with the entry script, once the boot config is published', async () => {
    await client.create(CoreResources.secret, toSecret(installConfig(MAC, 'tok-proxydhcp-issue-25-abcdef'), ns));
    const discover = clients.biosPxeRom(MAC);
    const offer = await answerTo(discover);
    expect(answerProblems(offer, discover, '127.0.0.1')).toEqual([]);
    const parsed = parseDhcp(offer);
    expect(parsed.ok && [parsed.packet.file, parsed.packet.siaddr]).toEqual(['undionly.kpxe', '127.0.0.1']);

    const ipxe = clients.ipxe(MAC);
    const ipxeOffer = await answerTo(ipxe);
    expect(answerProblems(ipxeOffer, ipxe, '127.0.0.1')).toEqual([]);
    const entry = parseDhcp(ipxeOffer);
    expect(entry.ok && entry.packet.file).toBe(`${boot.url}/boot.ipxe`);
    const script = await fetch(entry.ok ? entry.packet.file : '');
    expect(script.status).toBe(200);
    expect(await script.text()).toMatch(/^#!ipxe\n/);
  });

  it('survives garbage on both ports and counts it', async () => {
    const before = await counted('malformed');
    await send(randomBytes(300));
    await send(Buffer.alloc(0), pxePort);
    await waitFor('two malformed packets counted', async () => (await counted('malformed')) === before + 2);
    expect(boot.child.exitCode).toBeNull();
    expect(boot.logs()).not.toMatch(/"level":(50|60)/);
  });

  it('stops answering the machine when its boot config is deleted', async () => {
    const before = await counted('unknown_mac');
    await client.delete(CoreResources.secret, { namespace: ns, name: toSecret(installConfig(MAC, 'tok-proxydhcp-issue-25-abcdef'), ns).metadata.name! });
    await waitFor('the MAC unknown again', async () => {
      await send(clients.biosPxeRom(MAC));
      await new Promise((r) => setTimeout(r, 200));
      return (await counted('unknown_mac')) > before;
    });
    firmware.received.length = 0;
  });
});
