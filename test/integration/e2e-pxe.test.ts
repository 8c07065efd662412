// End to end: real VMs (QEMU) network-boot through anvil's boot-server, run the test installer (fetches its NoCloud
// seed, posts subiquity-shaped events to the webhook from its user-data), and are tracked by the operator to
// Provisioned; the next boot is told to boot locally; a reinstall installs again as the next attempt; a failing
// install is retried and succeeds. A machine nobody declared boots, gets a Discovered BareMetalHost with its facts
// (boot-server --discovery=create), and installs once given a templateRef. No dnsmasq boot option anywhere: the lab's
// dnsmasq hands out addresses only, and anvil's proxyDHCP names the boot file (the entry script over HTTP to an iPXE
// ROM, snponly.efi over anvil's TFTP to a UEFI firmware's own PXE client, then the entry script to its iPXE).
import { jest } from '@jest/globals';
import { rmSync } from 'node:fs';
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
import { startPostgres, type RunningPostgres } from '../harness/postgres.js';
import { openHistoryStore } from '@anvil/core/db';
import { allocateLabNetwork, bootVm, labMissing, ovmfMissing, startLab, type Lab, type LabNetwork } from '../harness/pxe-lab.js';

jest.setTimeout(900_000);

type Host = BareMetalHost & KubeObject;
const ns = 'e2e';
const MAC = '52:54:00:12:34:56';
/** The plain-PXE machine: UEFI firmware (OVMF) whose PXE client is EDK2's, not iPXE. */
const UEFI_MAC = '52:54:00:12:34:57';
/** The machine nobody declared: discovered on its first boot. */
const UNKNOWN_MAC = '52:54:00:12:34:58';
/** The iPXE binary a plain PXE client chainloads (the UEFI counterpart of undionly.kpxe), from anvil's TFTP root. */
const FIRST_STAGE = 'snponly.efi';
const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';
const missing = labMissing();

(missing && !process.env.CI ? describe.skip : describe)(`PXE end to end${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let manager: Manager;
  let boot: RunningProcess;
  let lab: Lab;
  let net: LabNetwork;
  let mirror: InstallerMirror | undefined;
  let pgServer: RunningPostgres;
  let databaseUrl: string;

  const getHost = async () => (await client.get<Host>(HostType, { namespace: ns, name: 'vm-01' }))!;
  const waitHost = async (what: string, pred: (h: Host) => boolean, timeoutMs = 60_000) => {
    try {
      return await waitFor(what, async () => {
        const h = await getHost();
        return pred(h) ? h : undefined;
      }, timeoutMs, 250);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nhost: ${JSON.stringify(await getHost(), null, 1)}\n--- boot-server\n${boot.logs().slice(-2000)}`);
    }
  };
  /** The proxyDHCP's answers to `mac` (offers and acks), from the boot-server's debug log. */
  const proxyAnswers = (mac: string): { client: string; bootFile: string; arch?: number }[] =>
    boot
      .logs()
      .split('\n')
      .filter((l) => l.includes('"component":"proxy-dhcp"') && l.includes(`"mac":"${mac}"`))
      .map((l) => JSON.parse(l) as { result: string; client?: string; bootFile?: string; arch?: number })
      .filter((e) => e.result === 'offer' || e.result === 'ack')
      .map((e) => ({ client: e.client ?? '', bootFile: e.bootFile ?? '', ...(e.arch !== undefined && e.client === 'firmware' ? { arch: e.arch } : {}) }));
  const vm = async (label: string, mac = MAC) => {
    const run = await bootVm(mac, { net, timeoutMs: 240_000 });
    if (!run.serial.includes('ANVIL-INSTALLER: reported')) throw new Error(`${label}: the installer did not report:\n${run.serial.slice(-3000)}\n--- boot-server\n${boot.logs().slice(-3000)}\n--- dhcp\n${lab.dhcpLog().slice(-2000)}`);
    return run;
  };

  beforeAll(async () => {
    if (missing) throw new Error(missing);
    mirror = await startInstallerMirror();

    cp = await startControlPlane();
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
    pgServer = await startPostgres();
    databaseUrl = await pgServer.createDatabase('anvil_e2e');
    const port = await freePort();
    net = allocateLabNetwork(); // a namespace and subnet of this run's own: the demo or a benchmark may run beside it
    // dnsmasq hands out addresses only; the boot-server's proxyDHCP (its address from the public URL) answers the PXE
    // clients: every one of them, since --discovery create must see unknown machines boot.
    lab = await startLab({ net, addressesOnly: true, ipxeBootURL: '', tftpBootFile: '' });
    boot = await startBootServer({
      kubeconfig: cp.kubeconfigPath,
      host: net.hostIP,
      port,
      tftpPort: 69,
      extraArgs: ['--database-url', databaseUrl, '--discovery', 'create', '--discovery-namespace', ns, '--proxy-dhcp', 'true'],
    });

    await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: ns }, stringData: { hash: HASH } });
    await client.create({ group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true }, testInstallerTemplate(ns, 'test-installer', mirror));
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'e2e', namespaces: [ns] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: boot.url, retryBaseMs: 1000 });
    await manager.start();
  });

  afterAll(async () => {
    await manager?.stop();
    await boot?.kill();
    if (boot) rmSync(boot.dir, { recursive: true, force: true });
    await lab?.stop();
    await cp?.stop();
    await pgServer?.stop();
    await mirror?.close();
  });

  it('installs, boots locally afterwards, reinstalls on request, and retries a failure', async () => {
    await client.create(HostType, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'BareMetalHost',
      metadata: { name: 'vm-01', namespace: ns },
      spec: { bootMACAddress: MAC, hostname: 'vm-01', templateRef: { name: 'test-installer' }, secretRefs: [{ name: 'creds', key: 'hash', variable: 'hash' }], provisioning: { revision: 1, maxRetries: 1, timeoutSeconds: 600 } },
    });
    await waitHost('Provisioning', (h) => h.status?.state === 'Provisioning');

    // First boot: the installer runs.
    const first = await vm('first boot');
    expect(first.serial).toContain('ANVIL-INSTALLER: seed ok');
    expect(proxyAnswers(MAC)).toEqual(expect.arrayContaining([{ client: 'ipxe', bootFile: `${boot.url}/boot.ipxe` }]));
    expect(first.serial).toContain('vm-01');
    expect(first.serial).toContain('result SUCCESS');
    let h = await waitHost('Provisioned', (x) => x.status?.state === 'Provisioned');
    expect(h.status?.currentInstall).toMatchObject({ attempt: 1, revision: 1, result: 'SUCCESS' });
    expect(h.status?.recentInstalls?.[0]).toMatchObject({ attempt: 1, result: 'SUCCESS' });

    // Second boot: told to boot from disk; no reinstall loop.
    const since = Date.now();
    await bootVm(MAC, {
      net,
      timeoutMs: 120_000,
      until: async () => {
        const b = (await getHost()).status?.lastBootRequest;
        return !!b && b.served === 'LocalBootScript' && Date.parse(b.time) > since;
      },
    });
    h = await getHost();
    expect(h.status?.lastBootRequest?.served).toBe('LocalBootScript');
    expect(h.status?.state).toBe('Provisioned');
    expect(h.status?.currentInstall?.attempt).toBe(1);

    // Reinstall from Git: the third boot installs again, as attempt 2.
    await client.patch(HostType, { namespace: ns, name: 'vm-01' }, 'merge', { spec: { provisioning: { revision: 2 } } });
    await waitHost('Provisioning r2', (x) => x.status?.state === 'Provisioning' && x.status.currentInstall?.revision === 2);
    await vm('reinstall boot');
    h = await waitHost('Provisioned r2', (x) => x.status?.state === 'Provisioned' && x.status.provisionedRevision === 2);
    expect(h.status?.currentInstall?.attempt).toBe(2);

    // A failing install: Failed with the installer's reason, then a retry (with the fix in place) succeeds.
    await client.patch(HostType, { namespace: ns, name: 'vm-01' }, 'merge', { spec: { variables: { testResult: 'FAIL' }, provisioning: { revision: 3 } } });
    await waitHost('Provisioning r3', (x) => x.status?.state === 'Provisioning' && x.status.currentInstall?.revision === 3);
    const failing = await vm('failing boot');
    expect(failing.serial).toContain('result FAIL');
    h = await waitHost('Failed', (x) => x.status?.state === 'Failed' || (x.status?.retry?.count ?? 0) >= 1);
    expect(h.status?.errorMessage).toContain('curtin command curthooks failed');
    await client.patch(HostType, { namespace: ns, name: 'vm-01' }, 'merge', { spec: { variables: { testResult: 'SUCCESS' } } });
    await waitHost('retry Provisioning', (x) => x.status?.state === 'Provisioning' && x.status.currentInstall?.attempt === 4);
    await vm('retry boot');
    h = await waitHost('Provisioned r3', (x) => x.status?.state === 'Provisioned' && x.status.provisionedRevision === 3);
    expect(h.status?.recentInstalls?.map((r) => `${r.attempt}:${r.result}`)).toEqual(['4:SUCCESS', '3:FAIL', '2:SUCCESS', '1:SUCCESS']);

    // The install history (PostgreSQL), through the history API: every install, each event stored once, the boots.
    const api = async <T>(path: string): Promise<T> => (await (await fetch(`${boot.url}${path}`)).json()) as T;
    const installs = await waitFor('history caught up', async () => {
      const page = await api<{ items: { id: string; attempt: number; result: string | null }[] }>(`/api/v1/hosts/${ns}/vm-01/installations`);
      return page.items.length === 4 && page.items.every((i) => i.result) ? page.items : undefined;
    });
    expect(installs.map((i) => `${i.attempt}:${i.result}`)).toEqual(['4:SUCCESS', '3:FAIL', '2:SUCCESS', '1:SUCCESS']);
    const store = await openHistoryStore({ databaseUrl, dataDir: '', migrate: false });
    try {
      for (const i of installs) {
        const events = await store.listInstallerEvents(i.id, { limit: 100 });
        // the failing test installer reports the nested FAIL and its propagation to the top level: 8 + 3 events
        expect(events.items.length).toBe(i.result === 'FAIL' ? 11 : 12);
        expect(new Set(events.items.map((e) => e.eventKey)).size).toBe(events.items.length);
      }
      const boots = await store.listBootRequests(MAC, { limit: 200 });
      const served = new Set(boots.items.map((b) => b.served));
      for (const kind of ['InstallScript', 'LocalBootScript', 'UserData', 'MetaData']) expect(served).toContain(kind);
    } finally {
      await store.close();
    }
    // the iPXE ROM was handed the HTTP entry script by the proxyDHCP: no TFTP on the way
    expect(await (await fetch(`${boot.url}/metrics`)).text()).toMatch(/anvil_dhcp_packets_total\{result="offer"\} [1-9]/);
  });

  it('discovers a machine nobody declared (a Discovered host with its facts) and installs it once it is given a templateRef', async () => {
    const name = 'discovered-525400123458';
    const getDiscovered = () => client.get<Host>(HostType, { namespace: ns, name });
    const discovered = async () => {
      const h = await getDiscovered();
      return h?.status?.state === 'Discovered' && h.status.discovery ? h : undefined;
    };
    const run = await bootVm(UNKNOWN_MAC, { net, timeoutMs: 120_000, until: async () => !!(await discovered()) });
    const h = await discovered();
    if (!h) throw new Error(`no Discovered host for ${UNKNOWN_MAC}: ${JSON.stringify(await getDiscovered())}\n--- serial\n${run.serial.slice(-2000)}\n--- boot-server\n${boot.logs().slice(-3000)}`);
    expect(run.serial).toContain(`no BareMetalHost has boot MAC ${UNKNOWN_MAC}`);
    // BIOS firmware (iPXE's platform pcbios), an x86 machine; no templateRef: never installed
    expect(h.spec).toMatchObject({ bootMACAddress: UNKNOWN_MAC, bootMode: 'legacy', architecture: 'amd64' });
    expect(h.spec.templateRef).toBeUndefined();
    expect(h.metadata.labels?.['anvil.dev/discovered']).toBe('true');
    // what SeaBIOS and QEMU's e1000 iPXE ROM report
    expect(h.status?.discovery).toMatchObject({ platform: 'pcbios', manufacturer: 'QEMU', product: expect.stringMatching(/^Standard PC/), firstSeen: expect.any(String) });
    expect(h.status?.discovery?.arch).toMatch(/^(i386|x86_64)$/);
    expect(h.status?.currentInstall).toBeUndefined();

    // it boots again: still one host, still not installed
    const store = await openHistoryStore({ databaseUrl, dataDir: '', migrate: false });
    try {
      const sightings = async () => (await store.listDiscovered({ limit: 100 })).items.find((m) => m.mac === UNKNOWN_MAC)?.seenCount ?? 0;
      const before = await sightings();
      await bootVm(UNKNOWN_MAC, { net, timeoutMs: 120_000, until: async () => (await sightings()) > before });
      expect(await sightings()).toBeGreaterThan(before);
    } finally {
      await store.close();
    }
    expect((await client.list<Host>(HostType, { namespace: ns })).items.filter((x) => x.spec.bootMACAddress === UNKNOWN_MAC).map((x) => x.metadata.name)).toEqual([name]);
    expect((await getDiscovered())?.status?.state).toBe('Discovered');

    // accepted with one edit: it installs on its next boot
    await client.patch(HostType, { namespace: ns, name }, 'merge', { spec: { templateRef: { name: 'test-installer' }, secretRefs: [{ name: 'creds', key: 'hash', variable: 'hash' }] } });
    await waitFor('the accepted host Provisioning', async () => ((await getDiscovered())?.status?.state === 'Provisioning' ? true : undefined), 60_000, 250);
    const install = await vm('accepted boot', UNKNOWN_MAC);
    expect(install.serial).toContain('ANVIL-INSTALLER: seed ok');
    const done = await waitFor('the accepted host Provisioned', async () => {
      const x = await getDiscovered();
      return x?.status?.state === 'Provisioned' ? x : undefined;
    }, 60_000, 250);
    expect(done.status?.currentInstall).toMatchObject({ attempt: 1, result: 'SUCCESS' });
    expect(done.status?.discovery?.manufacturer).toBe('QEMU');
  });

  const uefiMissing = ovmfMissing();
  (uefiMissing && !process.env.CI ? it.skip : it)(`plain PXE: a UEFI firmware without iPXE chainloads ${FIRST_STAGE} from anvil's TFTP, and its second DHCP gets the script${uefiMissing ? ` (skipped: ${uefiMissing})` : ''}`, async () => {
    if (uefiMissing) throw new Error(uefiMissing);
    const getUefiHost = async () => (await client.get<Host>(HostType, { namespace: ns, name: 'vm-uefi' }))!;
    await client.create(HostType, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'BareMetalHost',
      metadata: { name: 'vm-uefi', namespace: ns },
      spec: { bootMACAddress: UEFI_MAC, bootMode: 'UEFI', hostname: 'vm-uefi', templateRef: { name: 'test-installer' }, secretRefs: [{ name: 'creds', key: 'hash', variable: 'hash' }], provisioning: { revision: 1, timeoutSeconds: 600 } },
    });
    await waitFor('vm-uefi Provisioning', async () => ((await getUefiHost()).status?.state === 'Provisioning' ? true : undefined), 60_000, 250);

    const run = await bootVm(UEFI_MAC, { net, timeoutMs: 300_000, firmware: 'uefi' });
    const context = () => `\n--- serial\n${run.serial.slice(-3000)}\n--- boot-server\n${boot.logs().slice(-3000)}\n--- dhcp\n${lab.dhcpLog().slice(-3000)}`;
    if (!run.serial.includes('ANVIL-INSTALLER: reported')) throw new Error(`UEFI boot: the installer did not report${context()}`);
    expect(run.serial).toContain('Start PXE over IPv4'); // EDK2's PXE client, not an iPXE ROM
    expect(run.serial).toContain('ANVIL-INSTALLER: seed ok');
    const h = await waitFor('vm-uefi Provisioned', async () => {
      const x = await getUefiHost();
      return x.status?.state === 'Provisioned' ? x : undefined;
    }, 60_000, 250);
    expect(h.status?.currentInstall).toMatchObject({ attempt: 1, result: 'SUCCESS' });
    console.log(`plain-PXE UEFI VM: QEMU start -> installer done and powered off in ${(run.ms / 1000).toFixed(1)} s (printed, not asserted)`);

    // What the proxyDHCP answered: the firmware (EDK2, x86-64 UEFI) the iPXE binary over TFTP; iPXE (user class iPXE)
    // the HTTP entry script, so it did not load itself again. dnsmasq named no boot file to anyone.
    const answers = proxyAnswers(UEFI_MAC);
    expect(answers).toEqual(expect.arrayContaining([
      { client: 'firmware', bootFile: FIRST_STAGE, arch: 7 }, // x86-64 UEFI (option 93)
      { client: 'ipxe', bootFile: `${boot.url}/boot.ipxe` },
    ]));
    expect(new Set(answers.filter((a) => a.client === 'firmware').map((a) => a.bootFile))).toEqual(new Set([FIRST_STAGE]));
    expect(lab.dhcpLog()).not.toMatch(/sent size: +\d+ option: (66|67) /);
    // anvil's TFTP served the whole binary, and its HTTP served the scripts.
    expect(boot.logs()).toMatch(new RegExp(`"file":"/?${FIRST_STAGE.replace('.', '\\.')}"[^\n]*"result":"ok"`));
    expect(h.status?.lastBootRequest).toBeDefined();

    // The next boot of the UEFI machine is told to boot from its disk (exit to the firmware): no reinstall loop.
    const since = Date.now();
    await bootVm(UEFI_MAC, {
      net,
      firmware: 'uefi',
      timeoutMs: 180_000,
      until: async () => {
        const b = (await getUefiHost()).status?.lastBootRequest;
        return !!b && b.served === 'LocalBootScript' && Date.parse(b.time) > since;
      },
    });
    const after = await getUefiHost();
    expect(after.status?.lastBootRequest?.served).toBe('LocalBootScript');
    expect(after.status?.state).toBe('Provisioned');
    expect(after.status?.currentInstall?.attempt).toBe(1);
  });
});
