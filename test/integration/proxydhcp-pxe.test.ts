// Network boot through anvil's proxyDHCP (issue 25): in a lab namespace of this run, dnsmasq hands out ADDRESSES ONLY
// (no boot option at all) and the boot-server process, with --proxy-dhcp, names the boot file. A QEMU VM whose NIC ROM
// is iPXE (SeaBIOS, e1000) gets its address from dnsmasq and anvil's entry script from the proxyDHCP, and runs the
// per-machine script of its boot config; a UEFI VM (OVMF, EDK2's own PXE client) gets snponly.efi over anvil's TFTP
// from the proxyDHCP, and then, as iPXE, the entry script. Offers to 255.255.255.255 are sent from the lab address,
// so they leave by the lab's veth and nothing is broadcast on the machine's other networks.
import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { toSecret } from '@anvil/core/bootconfig';
import { CoreResources, type KubeClient } from '@anvil/core/kube';
import { installConfig } from '@anvil/boot-server/src/http/testing/serve-boot-app.js';
import { freePort, startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace } from '../harness/kube.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';
import { allocateLabNetwork, bootVm, labMissing, ovmfMissing, startLab, type Lab, type LabNetwork } from '../harness/pxe-lab.js';

jest.setTimeout(600_000);

const suffix = randomBytes(2).toString('hex').match(/../g)!.join(':');
const BIOS_MAC = `52:54:00:25:${suffix}`;
const UEFI_MAC = `52:54:02:25:${suffix}`;
const STRANGER_MAC = `52:54:04:25:${suffix}`;
const missing = labMissing() ?? ovmfMissing();

(missing && !process.env.CI ? describe.skip : describe)(`proxyDHCP PXE boot${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const ns = `proxypxe-${randomBytes(3).toString('hex')}`;
  let cp: ControlPlane;
  let client: KubeClient;
  let boot: RunningProcess;
  let lab: Lab;
  let net: LabNetwork;

  beforeAll(async () => {
    cp = await startControlPlane();
    client = clientFor(cp);
    await ensureNamespace(client, ns);
    net = allocateLabNetwork();
    lab = await startLab({ net, addressesOnly: true, ipxeBootURL: '', tftpBootFile: '' });
    boot = await startBootServer({
      kubeconfig: cp.kubeconfigPath,
      host: net.hostIP,
      port: await freePort(),
      tftpPort: 69,
      // The advertised address comes from the public URL (http://<hostIP>:<port>); offers go to 255.255.255.255 and
      // leave by the lab's veth because they are sent from that address.
      extraArgs: ['--namespace', ns, '--proxy-dhcp', 'true'],
    });
    for (const [mac, word] of [[BIOS_MAC, 'bios'], [UEFI_MAC, 'uefi']] as const) {
      const config = { ...installConfig(mac, `tok-proxydhcp-${word}-${randomBytes(8).toString('hex')}`), ipxe: `#!ipxe\necho ANVIL-PROXYDHCP-${word}-OK\nshell\n` };
      await client.create(CoreResources.secret, toSecret(config, ns));
    }
  });

  afterAll(async () => {
    await boot?.kill();
    if (boot) rmSync(boot.dir, { recursive: true, force: true });
    await lab?.stop();
    await cp?.stop();
  });

  const explain = (serial: string): string => `\n--- serial\n${serial.slice(-3000)}\n--- boot-server\n${boot.logs().slice(-4000)}\n--- dhcp\n${lab.dhcpLog().slice(-3000)}`;
  const counted = async (result: string): Promise<number> => {
    const text = await (await fetch(`${boot.url}/metrics`)).text();
    return Number(new RegExp(`^anvil_dhcp_packets_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  };
  /** What the proxyDHCP answered `mac`, from its debug log lines: result (offer/ack), client kind and boot file. */
  const answered = (mac: string): { result: string; client: string; bootFile: string }[] =>
    boot
      .logs()
      .split('\n')
      .filter((l) => l.includes('"component":"proxy-dhcp"') && l.includes(`"mac":"${mac}"`))
      .map((l) => JSON.parse(l) as { result: string; client?: string; bootFile?: string })
      .filter((e) => e.result === 'offer' || e.result === 'ack')
      .map((e) => ({ result: e.result, client: e.client ?? '', bootFile: e.bootFile ?? '' }));
  const bootUntil = async (mac: string, firmware: 'bios' | 'uefi', marker: string) => {
    let seen = false;
    const run = await bootVm(mac, { net, firmware, timeoutMs: 240_000, onSerial: (s) => void (seen ||= s.includes(marker)), until: () => Promise.resolve(seen) });
    if (!seen) throw new Error(`${firmware} VM never ran its anvil script${explain(run.serial)}`);
    return run;
  };

  it('boots an iPXE-ROM VM: address from dnsmasq, entry script from the proxyDHCP', async () => {
    await bootUntil(BIOS_MAC, 'bios', 'ANVIL-PROXYDHCP-bios-OK');
    const dhcp = lab.dhcpLog();
    expect(dhcp).toMatch(new RegExp(`DHCPACK\\(br0\\) \\S+ ${BIOS_MAC}`));
    expect(dhcp).not.toMatch(/sent size: +\d+ option: (66|67) /); // dnsmasq named no boot file
    expect(dhcp).not.toMatch(new RegExp(`next server: ${net.hostIP.replaceAll('.', '\\.')}\\b`));
    // The ROM's iPXE takes the boot file from the proxy offer on port 67 (it asked no ProxyDHCPREQUEST on 4011 here).
    expect(answered(BIOS_MAC)).toEqual(expect.arrayContaining([{ result: 'offer', client: 'ipxe', bootFile: `${boot.url}/boot.ipxe` }]));
  });

  it('boots a UEFI VM with EDK2 PXE: snponly.efi over TFTP, then the entry script', async () => {
    await bootUntil(UEFI_MAC, 'uefi', 'ANVIL-PROXYDHCP-uefi-OK');
    expect(answered(UEFI_MAC)).toEqual(
      expect.arrayContaining([
        { result: 'offer', client: 'firmware', bootFile: 'snponly.efi' },
        { result: 'offer', client: 'ipxe', bootFile: `${boot.url}/boot.ipxe` },
      ]),
    );
  });

  it('leaves a machine no BareMetalHost declares to others', async () => {
    const before = await counted('unknown_mac');
    const run = await bootVm(STRANGER_MAC, { net, timeoutMs: 120_000, until: async () => (await counted('unknown_mac')) > before });
    expect(run.serial).not.toMatch(/ANVIL-PROXYDHCP/);
  });
});
