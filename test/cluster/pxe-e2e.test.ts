// In-cluster end to end: anvil installed by `helm install` (defaults, the local image, the boot-server on the node's
// network at its address), a host and template like the quickstart's with a VM's MAC, then a QEMU VM on a bridge
// attached to the node's network PXE-boots from the boot-server POD (DHCP from dnsmasq sends it to the pod's TFTP on
// port 69, boot.ipxe chains to the pod's HTTP), runs the test installer (NoCloud seed, installer events to the
// webhook) and ends Provisioned, with its install timeline in the history API.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBootServerVolume, startCluster, type Cluster } from '../harness/cluster.js';
import { startClusterPxeLab, type ClusterPxeLab } from '../harness/cluster-pxe-lab.js';
import { waitFor } from '../harness/kube.js';
import { ROOT } from '../harness/processes.js';
import { bootVm, buildTestInstaller, labMissing } from '../harness/pxe-lab.js';

const MINUTE = 60_000;
const TAG = process.env.ANVIL_CLUSTER_IMAGE_TAG ?? 'test';
const NS = 'anvil';
const HOSTS_NS = 'default';
const MAC = '52:54:00:12:34:61';
const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';
let cluster: Cluster | undefined;
let lab: ClusterPxeLab | undefined;
let publicURL = '';

interface HostStatus {
  state?: string;
  currentInstall?: { attempt?: number; revision?: number; result?: string };
  lastBootRequest?: { served?: string };
}

const c = (): Cluster => {
  if (!cluster) throw new Error('no cluster');
  return cluster;
};

interface Pod {
  metadata: { name: string; labels?: Record<string, string> };
  status: {
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; restartCount: number; state?: { running?: { startedAt?: string } }; lastState?: { terminated?: { reason?: string; exitCode?: number } } }[];
  };
}

/** Liveness: every 10 s, 3 failures; and the 30 s grace of the kill already decided. */
const LIVENESS_WINDOW_MS = 75_000;

function restartsOf(p: Pod): string[] {
  return (p.status.containerStatuses ?? [])
    .filter((x) => x.restartCount > 0)
    .map((x) => `${p.metadata.name}/${x.name}: ${x.restartCount} restarts, last ${x.lastState?.terminated?.reason ?? '?'} (exit ${x.lastState?.terminated?.exitCode ?? '?'})`);
}

async function hostStatus(): Promise<HostStatus> {
  const out = await c().kubectl(['-n', HOSTS_NS, 'get', 'baremetalhost', 'vm-01', '-o', 'jsonpath={.status}']);
  return out.trim() ? (JSON.parse(out) as HostStatus) : {};
}

async function bootServerLogs(): Promise<string> {
  return c().kubectl(['-n', NS, 'logs', '-l', 'app.kubernetes.io/component=boot-server', '--tail=60']).catch((e: Error) => e.message);
}

/** From the node's network, as the VM sees the boot-server. */
async function fromNode(path: string): Promise<string> {
  return c().nsrun(['curl', '-sSf', '--max-time', '10', `${publicURL}${path}`]);
}

beforeAll(async () => {
  const missing = labMissing();
  if (missing) throw new Error(missing);
  const installer = buildTestInstaller();
  cluster = await startCluster({ anvilTag: TAG });
  publicURL = `http://${cluster.nodeIp}:8080`;
  lab = await startClusterPxeLab(cluster, { tftpBootFile: 'boot.ipxe', mirrorFiles: { linux: installer.kernel, 'initrd.gz': installer.initrd } });
}, 40 * MINUTE);

afterAll(async () => {
  await lab?.stop();
  await cluster?.stop();
}, 5 * MINUTE);

describe('a VM PXE-boots from the boot-server pod and ends Provisioned', () => {
  test('helm install with hostNetwork and the node address as public URL: every pod Ready', async () => {
    await createBootServerVolume(c());
    await c().helm(
      [
        'install', 'anvil', join(ROOT, 'charts', 'anvil'), '--namespace', NS, '--create-namespace',
        '--set', 'image.repository=localhost/anvil', '--set', `image.tag=${TAG}`, '--set', 'image.pullPolicy=Never',
        // on the node's network, at the node's address (no DNS here); TFTP: the chart's default for hostNetwork,
        // port 69 through setpriv with CAP_NET_BIND_SERVICE only
        '--set', 'bootServer.hostNetwork=true', '--set', `bootServer.publicURL=${publicURL}`,
      ],
      { timeoutMs: 5 * MINUTE },
    );
    // The chart's liveness probe has no initial delay: on a loaded node, a boot-server that takes over 30 s to start
    // is restarted until one start is quick enough. The VM must not boot into such a restart (its ROM gives up on
    // TFTP), so this waits for the pod to stay up past the liveness window, and reports restarts rather than failing.
    const restarts = await waitFor('every anvil pod Ready, the boot-server up past its liveness window', async () => {
      const list = (JSON.parse(await c().kubectl(['-n', NS, 'get', 'pods', '-o', 'json'])) as { items: Pod[] }).items;
      const ready = list.length === 3 && list.every((p) => p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
      const boot = list.find((p) => p.metadata.labels?.['app.kubernetes.io/component'] === 'boot-server')?.status.containerStatuses?.[0];
      const since = Date.parse(boot?.state?.running?.startedAt ?? '');
      return ready && Date.now() - since > LIVENESS_WINDOW_MS ? list.flatMap(restartsOf) : undefined;
    }, 10 * MINUTE, 2000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await c().diagnostics()}\n--- boot-server\n${await bootServerLogs()}`);
    });
    if (restarts.length) console.warn(`restarts before the pods settled (chart finding, not asserted here):\n${restarts.join('\n')}`);
    expect((await fromNode('/boot.ipxe')).startsWith('#!ipxe')).toBe(true);
  }, 20 * MINUTE);

  test('the VM boots over the pod TFTP + HTTP, installs, the host ends Provisioned and the history holds its timeline', async () => {
    const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    const installer = buildTestInstaller();
    const mirror = lab!.mirrorURL;
    const objects = [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vm-01-credentials', namespace: HOSTS_NS }, stringData: { password: HASH } },
      {
        apiVersion: 'anvil.dev/v1alpha1',
        kind: 'AutoinstallTemplate',
        metadata: { name: 'test-installer', namespace: HOSTS_NS },
        spec: {
          defaults: { testResult: 'SUCCESS' },
          boot: {
            kernel: { url: `${mirror}/linux`, sha256: sha(installer.kernel) },
            initrd: { url: `${mirror}/initrd.gz`, sha256: sha(installer.initrd) },
            kernelArgs: 'console=ttyS0 quiet anvil_test_result={{ testResult }}',
          },
          userData: '#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: {{ host.hostname | yaml }}\n    username: ubuntu\n    password: {{ password | password_hash | yaml }}\n',
        },
      },
      {
        apiVersion: 'anvil.dev/v1alpha1',
        kind: 'BareMetalHost',
        metadata: { name: 'vm-01', namespace: HOSTS_NS, labels: { role: 'worker' } },
        spec: {
          bootMACAddress: MAC, architecture: 'amd64', bootMode: 'legacy', hostname: 'vm-01', templateRef: { name: 'test-installer' },
          secretRefs: [{ name: 'vm-01-credentials', key: 'password', variable: 'password' }],
          provisioning: { revision: 1, timeoutSeconds: 900 },
        },
      },
    ];
    await c().kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
    const context = async () => `\nhost: ${JSON.stringify(await hostStatus().catch(() => ({})))}\n--- boot-server\n${await bootServerLogs()}\n--- dhcp\n${lab!.dhcpLog().slice(-2000)}`;
    await waitFor('vm-01 Provisioning', async () => (await hostStatus()).state === 'Provisioning', 5 * MINUTE, 2000).catch(async (err: Error) => {
      throw new Error(`${err.message}${await context()}\n${await c().diagnostics()}`);
    });

    const run = await bootVm(MAC, { netns: lab!.vmNetns, timeoutMs: 8 * MINUTE });
    if (!run.serial.includes('ANVIL-INSTALLER: reported')) throw new Error(`the installer did not report:\n${run.serial.slice(-3000)}${await context()}`);
    expect(run.serial).toContain('ANVIL-INSTALLER: seed ok');
    expect(run.serial).toContain('vm-01');
    expect(run.serial).toContain('result SUCCESS');
    // the DHCP conversation sent it to the node address for TFTP
    expect(lab!.dhcpLog()).toMatch(new RegExp(`DHCPACK\\(node0\\) 10\\.200\\.0\\.\\d+ ${MAC}`));

    const status = await waitFor('vm-01 Provisioned', async () => {
      const s = await hostStatus();
      return s.state === 'Provisioned' ? s : undefined;
    }, 3 * MINUTE, 2000).catch(async (err: Error) => {
      throw new Error(`${err.message}${await context()}`);
    });
    expect(status.currentInstall).toMatchObject({ attempt: 1, revision: 1, result: 'SUCCESS' });

    // the pod's TFTP served boot.ipxe to the VM (not only HTTP)
    expect(await fromNode('/metrics')).toMatch(/anvil_tftp_transfers_total\{result="ok"\} [1-9]/);

    // the timeline, from the boot-server pod's history API
    const installs = await waitFor('the installation in the history', async () => {
      const page = JSON.parse(await fromNode(`/api/v1/hosts/${HOSTS_NS}/vm-01/installations`)) as { items: { id: string; attempt: number; result: string | null }[] };
      return page.items.length === 1 && page.items[0]!.result ? page.items : undefined;
    }, 2 * MINUTE, 1000);
    expect(installs.map((i) => `${i.attempt}:${i.result}`)).toEqual(['1:SUCCESS']);
    const detail = JSON.parse(await fromNode(`/api/v1/installations/${installs[0]!.id}?limit=100`)) as {
      phases: unknown[];
      events: { name: string; eventType?: string }[];
    };
    // the test installer posts 12 events, each stored once
    expect(detail.events.length).toBe(12);
    expect(detail.events.map((e) => e.name)).toContain('subiquity/Install/install');
    expect(detail.phases.length).toBeGreaterThan(0);
  }, 25 * MINUTE);
});
