// End to end with the REAL Debian installer: a QEMU VM (e1000 NIC with Debian's iPXE ROM, software emulation)
// network-boots through anvil: DHCP (dnsmasq, addresses and the boot file only) -> anvil's TFTP and HTTP -> d-i's
// netboot kernel and initrd (debian-installer-12-netboot-amd64) from anvil's asset cache -> d-i fetches its preseed
// from anvil with the install token -> anvil receives the early command's event and d-i's syslog, and the host's
// status shows d-i's steps. The lab has no Debian mirror (anvil's test mirror answers 404): the install stops at
// choosing the mirror, which the host's status names as the failing step. No duration is asserted; timeouts are
// generous (d-i under TCG takes minutes on a busy 2-core machine).
import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import { CoreResources, type KubeClient, type KubeObject, type ResourceType } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { defaultRenderer } from '@anvil/operator/src/render/renderer.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { freePort, startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { HostType } from '../harness/installer-sim.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';
import { allocateLabNetwork, bootVm, buildTestInstaller, labMissing, startLab, type Lab, type LabNetwork } from '../harness/pxe-lab.js';

jest.setTimeout(1_800_000);

type Host = BareMetalHost & KubeObject;
const TemplateType: ResourceType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true };
const ns = 'debian';
const MAC = '52:54:00:12:37:01';
const EXAMPLE = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'examples', 'debian', '10-template-debian.yaml');
const missing = labMissing();

interface Seen {
  phases: string[];
  lastEvents: string[];
}

(missing && !process.env.CI ? describe.skip : describe)(`the REAL Debian installer through anvil${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let manager: Manager;
  let boot: RunningProcess;
  let lab: Lab;
  let net: LabNetwork;
  let mirror: Server;
  let debianMirror: Server;

  const getHost = async () => (await client.get<Host>(HostType, { namespace: ns, name: 'debian-vm' }))!;
  const diagnostics = async (serial = ''): Promise<string> =>
    `host status: ${JSON.stringify((await getHost()).status, null, 1)}\n--- serial (end)\n${serial.slice(-4000)}\n--- boot-server (end)\n${boot.logs().slice(-4000)}\n--- dhcp (end)\n${lab.dhcpLog().slice(-1500)}`;

  beforeAll(async () => {
    if (missing) throw new Error(missing);
    // the real d-i netboot kernel and initrd, served to the boot-server by a local "upstream"
    const { kernel } = buildTestInstaller();
    const files: Record<string, Buffer> = { '/linux': readFileSync(kernel), '/initrd.gz': readFileSync(join(dirname(kernel), 'initrd.gz')) };
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    mirror = createServer((req, res) => {
      const body = files[req.url ?? ''];
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Length': body.length }).end(body);
    });
    const mirrorPort = await freePort();
    await new Promise<void>((r) => mirror.listen(mirrorPort, '127.0.0.1', r));

    cp = await startControlPlane();
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
    const port = await freePort();
    net = allocateLabNetwork();
    lab = await startLab({ net, ipxeBootURL: `http://${net.hostIP}:${port}/boot.ipxe`, tftpBootFile: 'boot.ipxe', forceTftp: true });
    // The "Debian mirror" the VM can reach answers nothing useful: the install must stop at choosing the mirror.
    debianMirror = createServer((_req, res) => void res.writeHead(404).end());
    const debianMirrorPort = await freePort();
    await new Promise<void>((r) => debianMirror.listen(debianMirrorPort, net.hostIP, r));
    // syslog on the lab's own address (unique per run) at the port anvil names in log_port=
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, host: net.hostIP, port, tftpPort: 69, extraArgs: ['--syslog-host', net.hostIP, '--syslog-port', '5514'] });

    const example = parse(readFileSync(EXAMPLE, 'utf8')) as { spec: { preseed: string; defaults: Record<string, unknown>; boot: { kernelArgs: string } } };
    await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: ns }, stringData: { root: 'root-pw-e2e', user: 'user-pw-e2e' } });
    await client.create(TemplateType, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'AutoinstallTemplate',
      metadata: { name: 'debian-12', namespace: ns },
      spec: {
        installer: 'debian-preseed',
        defaults: { ...example.spec.defaults, mirror: `${net.hostIP}:${debianMirrorPort}` },
        boot: {
          kernel: { url: `http://127.0.0.1:${mirrorPort}/linux`, sha256: sha(files['/linux']!) },
          initrd: { url: `http://127.0.0.1:${mirrorPort}/initrd.gz`, sha256: sha(files['/initrd.gz']!) },
          // The lab's VM has 512 MiB: d-i would stop at its low-memory notice (lowmem/low=1 skips it). The lab's DHCP
          // names no DNS server, so d-i would ask for one before it has its preseed file: answered here.
          kernelArgs: `lowmem/low=1 netcfg/get_nameservers=${net.dhcpIP} ${example.spec.boot.kernelArgs}`,
        },
        preseed: example.spec.preseed,
      },
    });
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'e2e-debian', namespaces: [ns] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: boot.url, retryBaseMs: 1000 });
    await manager.start();
  });

  afterAll(async () => {
    await manager?.stop();
    await defaultRenderer().close();
    await boot?.kill();
    if (boot) rmSync(boot.dir, { recursive: true, force: true });
    await lab?.stop();
    await cp?.stop();
    for (const server of [mirror, debianMirror]) await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  it('boots d-i through anvil, serves its preseed with the token, and follows its steps up to the missing mirror', async () => {
    await client.create(HostType, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'BareMetalHost',
      metadata: { name: 'debian-vm', namespace: ns },
      spec: {
        bootMACAddress: MAC,
        hostname: 'debian-vm',
        templateRef: { name: 'debian-12' },
        secretRefs: [
          { name: 'creds', key: 'root', variable: 'rootPassword' },
          { name: 'creds', key: 'user', variable: 'password' },
        ],
        provisioning: { revision: 1, maxRetries: 0, timeoutSeconds: 3600 },
      },
    });
    await waitFor('Provisioning', async () => ((await getHost()).status?.state === 'Provisioning' ? true : undefined), 120_000);

    const seen: Seen = { phases: [], lastEvents: [] };
    const run = await bootVm(MAC, {
      net,
      timeoutMs: 1_500_000,
      until: async () => {
        const current = (await getHost()).status?.currentInstall;
        const phase = current?.phase;
        if (phase && seen.phases.at(-1) !== phase) seen.phases.push(phase);
        const last = current?.lastEvent?.name;
        if (last && seen.lastEvents.at(-1) !== last) seen.lastEvents.push(last);
        return current?.failure?.stage === 'choose-mirror';
      },
    });
    const host = await getHost();
    const why = await diagnostics(run.serial);
    // the host's status: d-i's step that failed, and why (choose-mirror's own warning, as d-i logged it)
    expect({ failure: host.status?.currentInstall?.failure, why }).toMatchObject({
      failure: { stage: 'choose-mirror', reason: expect.stringMatching(/^choosing a Debian mirror failed: mirror does not support the specified release \(bookworm\)/), event: 'debian-installer/choose-mirror' },
    });
    expect(host.status?.currentInstall).toMatchObject({ phase: 'choose-mirror', progress: 'failing (choose-mirror)' });
    expect(seen.phases).toContain('choose-mirror');

    // the history, in order: d-i's network step (from its syslog), the early command's event (posted by d-i's own
    // busybox with anvil's token once the preseed file is loaded), then the mirror step that fails
    const installationId = host.status!.currentInstall!.installationId!;
    const record = (await (await fetch(`${boot.url}/api/v1/installations/${installationId}?limit=500`)).json()) as { events: { name: string; eventType: string; result?: string; origin?: string }[] };
    const events = record.events.map((e) => `${e.name} ${e.eventType}${e.result ? ` ${e.result}` : ''} (${e.origin ?? ''})`);
    const order = [
      'debian-installer/netcfg start (d-i-syslog)',
      'debian-installer/netcfg finish SUCCESS (d-i-syslog)',
      'debian-installer/install start (preseed)',
      'debian-installer/choose-mirror start (d-i-syslog)',
      'debian-installer/choose-mirror finish FAIL (d-i-syslog)',
    ];
    expect({ events: events.filter((e) => order.includes(e)), why }).toEqual({ events: order, why });
    const logs = boot.logs();
    expect(logs).toMatch(/"path":"\/preseed\/52-54-00-12-37-01\/REDACTED\/preseed.cfg"/);
    expect(logs).not.toContain('root-pw-e2e');
  });
});
