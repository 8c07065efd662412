// Managed DHCP end to end (issue 25): a provisioning network with NO DHCP server but anvil's. The boot-server, with
// --managed-dhcp-pool, hands out the addresses and names the boot files; a host reserves its address in its spec
// (bootIPAddress). A QEMU VM (iPXE ROM) gets that address from anvil, boots the test installer, whose own DHCP client
// (busybox udhcpc) gets it again, and installs to Provisioned; the lease is on disk in the boot-server's spool volume.
import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { freePort, startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { HostType } from '../harness/installer-sim.js';
import { startInstallerMirror, testInstallerTemplate, type InstallerMirror } from '../harness/installer-mirror.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';
import { allocateLabNetwork, bootVm, labMissing, startLab, type Lab, type LabNetwork } from '../harness/pxe-lab.js';

jest.setTimeout(600_000);

type Host = BareMetalHost & KubeObject;
const suffix = randomBytes(2).toString('hex').match(/../g)!.join(':');
const MAC = `52:54:06:25:${suffix}`;
const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';
const missing = labMissing();

(missing && !process.env.CI ? describe.skip : describe)(`managed DHCP PXE install${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const ns = `managed-${randomBytes(3).toString('hex')}`;
  let cp: ControlPlane;
  let client: KubeClient;
  let manager: Manager;
  let boot: RunningProcess;
  let lab: Lab;
  let net: LabNetwork;
  let mirror: InstallerMirror | undefined;

  beforeAll(async () => {
    mirror = await startInstallerMirror();

    cp = await startControlPlane();
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
    net = allocateLabNetwork();
    lab = await startLab({ net, noDhcp: true, ipxeBootURL: '', tftpBootFile: '' });
    boot = await startBootServer({
      kubeconfig: cp.kubeconfigPath,
      host: net.hostIP,
      port: await freePort(),
      tftpPort: 69,
      extraArgs: ['--namespace', ns, '--proxy-dhcp', 'true', '--managed-dhcp-pool', `${net.rangeStart}-${net.rangeEnd}`, '--managed-dhcp-lease-seconds', '600'],
    });
    await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: ns }, stringData: { hash: HASH } });
    await client.create({ group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true }, testInstallerTemplate(ns, 'test-installer', mirror));
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'managed-dhcp', namespaces: [ns] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: boot.url, retryBaseMs: 1000 });
    await manager.start();
  });

  afterAll(async () => {
    await manager?.stop();
    await boot?.kill();
    if (boot) rmSync(boot.dir, { recursive: true, force: true });
    await lab?.stop();
    await cp?.stop();
    await mirror?.close();
  });

  it('gives a host its reserved address, boots and installs it with no other DHCP server on the network', async () => {
    const reserved = net.hostIP.replace(/\.1$/, '.20'); // outside the pool
    await client.create(HostType, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'BareMetalHost',
      metadata: { name: 'vm-managed', namespace: ns },
      spec: { bootMACAddress: MAC, bootMode: 'legacy', bootIPAddress: reserved, templateRef: { name: 'test-installer' }, secretRefs: [{ name: 'creds', key: 'hash', variable: 'hash' }], provisioning: { revision: 1, timeoutSeconds: 600 } },
    });
    const getHost = async () => (await client.get<Host>(HostType, { namespace: ns, name: 'vm-managed' }))!;
    await waitFor('Provisioning', async () => ((await getHost()).status?.state === 'Provisioning' ? true : undefined), 60_000, 250);

    const run = await bootVm(MAC, { net, timeoutMs: 300_000 });
    const explain = `\n--- serial\n${run.serial.slice(-3000)}\n--- boot-server\n${boot.logs().slice(-4000)}`;
    if (!run.serial.includes('ANVIL-INSTALLER: reported')) throw new Error(`the installer did not report${explain}`);
    expect(lab.dhcpLog()).toBe(''); // nobody else on the network
    const h = await waitFor('Provisioned', async () => {
      const x = await getHost();
      return x.status?.state === 'Provisioned' ? x : undefined;
    }, 60_000, 250);
    expect(h.status?.currentInstall).toMatchObject({ attempt: 1, result: 'SUCCESS' });
    // every request came from the reserved address: iPXE's and the installer's DHCP both got it from anvil
    expect(h.status?.lastBootRequest?.clientIP).toMatch(new RegExp(`${reserved.replaceAll('.', '\\.')}$`));
    const leases = JSON.parse(readFileSync(join(boot.dir, 'spool', 'dhcp-leases.json'), 'utf8')) as { leases: { mac: string; address: string }[] };
    expect(leases.leases).toEqual([expect.objectContaining({ mac: MAC, address: reserved })]);
    const metrics = await (await fetch(`${boot.url}/metrics`)).text();
    expect(metrics).toMatch(/anvil_dhcp_packets_total\{result="lease_ack"\} [1-9]/);
  });
});
