// Safe updates end to end (issue 26) with real machines: four QEMU VMs network-boot through anvil's boot-server (its
// proxyDHCP, in a lab network namespace) into the test installer, which fetches its NoCloud seed, runs the user-data's
// late-commands and reports to the webhook. An AutoinstallTemplate with spec.rollout (2 hosts a wave, a maintenance
// window that is open, halt at 1 failure) rolls a late-commands change out in two waves; a revision whose late-command
// fails halts after the first wave and its hosts install the previous revision again. The test plays the person (or
// BMC) who powers a machine on when anvil asks for an install: it boots the VM of every host that waits for its boot.
import { jest } from '@jest/globals';
import { rmSync } from 'node:fs';
import { AnvilResources, anvilCrds } from '@anvil/core/api';
import { openHistoryStore, type SqlHistoryStore } from '@anvil/core/db';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { cleanUpAll } from '../harness/cleanup.js';
import { freePort, type ControlPlane } from '../harness/control-plane.js';
import { startInstallerMirror, testInstallerTemplate, type InstallerMirror } from '../harness/installer-mirror.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import type { RunningPostgres } from '../harness/postgres.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';
import { allocateLabNetwork, bootVm, labMissing, startLab, type Lab, type LabNetwork } from '../harness/pxe-lab.js';
import { rolloutWatch } from '../harness/rollout-watch.js';
import { startPostgresAndControlPlane } from '../harness/start-together.js';

jest.setTimeout(1_200_000);

const missing = labMissing();
const NS = 'rollout-e2e';
const HOSTS = ['node-a', 'node-b', 'node-c', 'node-d'];
const MACS = ['52:54:00:26:00:0a', '52:54:00:26:00:0b', '52:54:00:26:00:0c', '52:54:00:26:00:0d'];
const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';
/** VMs running at once (one lab tap each): two cores. */
const PARALLEL = 2;
const userData = (late: string) =>
  `#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: {{ host.hostname | yaml }}\n    username: ubuntu\n    password: {{ hash | yaml }}\n  late-commands:\n    - ${late}\n`;

(missing && !process.env.CI ? describe.skip : describe)(`template rollout with QEMU machines${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let cp: ControlPlane | undefined;
  let pgServer: RunningPostgres | undefined;
  let client: KubeClient;
  let manager: Manager | undefined;
  let boot: RunningProcess | undefined;
  let lab: Lab | undefined;
  let net: LabNetwork;
  let mirror: InstallerMirror | undefined;
  let history: SqlHistoryStore | undefined;
  /** Console output of every boot, per host, for failures. */
  const consoles = new Map<string, string[]>();

  const { getHost, getTemplate, snapshot, rolloutWhere, newestRevision, installedHash } = rolloutWatch(() => client, NS, 'fleet', HOSTS, () => `\n--- boot-server\n${boot?.logs().slice(-2000)}`);

  /** Hosts anvil waits on to network-boot (an install was asked for and nothing fetched it yet). */
  const waitingForBoot = async (): Promise<string[]> => {
    const hosts = await Promise.all(HOSTS.map(getHost));
    return hosts.filter((h) => h.status?.state === 'Provisioning' && h.status.currentInstall?.phase === 'waiting for boot').map((h) => h.metadata.name!);
  };

  /** Powers on the VM of each host that waits for its boot, PARALLEL at a time, until they ran the installer. */
  async function bootWaitingHosts(expected: readonly string[]): Promise<void> {
    const waiting = await waitFor(`${expected.join(', ')} waiting for their boot`, async () => {
      const w = await waitingForBoot();
      return expected.every((h) => w.includes(h)) ? w : undefined;
    }, 120_000).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; ${await snapshot()}`);
    });
    expect(waiting.sort()).toEqual([...expected].sort());
    for (let i = 0; i < waiting.length; i += PARALLEL) {
      await Promise.all(
        waiting.slice(i, i + PARALLEL).map(async (name, slot) => {
          const run = await bootVm(MACS[HOSTS.indexOf(name)]!, { net, tap: `tap${slot}`, timeoutMs: 240_000 });
          consoles.set(name, [...(consoles.get(name) ?? []), run.serial]);
          if (!run.serial.includes('ANVIL-INSTALLER: reported')) throw new Error(`${name}: the installer did not report:\n${run.serial.slice(-3000)}\n--- boot-server\n${boot!.logs().slice(-3000)}`);
        }),
      );
    }
  }

  beforeAll(async () => {
    if (missing) throw new Error(missing);
    mirror = await startInstallerMirror();
    [pgServer, cp] = await startPostgresAndControlPlane();
    const databaseUrl = await pgServer.createDatabase('anvil_rollout_e2e');
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, NS);
    net = allocateLabNetwork();
    lab = await startLab({ net, addressesOnly: true, ipxeBootURL: '', tftpBootFile: '', taps: PARALLEL, reservations: MACS });
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, host: net.hostIP, port: await freePort(), tftpPort: 69, extraArgs: ['--database-url', databaseUrl, '--proxy-dhcp', 'true', '--namespace', NS] });
    history = await openHistoryStore({ databaseUrl, dataDir: '', migrate: false });
    await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: NS }, stringData: { hash: HASH } });
    const template = testInstallerTemplate(NS, 'fleet', mirror) as KubeObject & { spec: Record<string, unknown> };
    template.spec.userData = userData('echo one');
    // Waves of 2 inside a maintenance window (daily from midnight UTC for 24 h: open whenever the test runs).
    template.spec.rollout = { batchSize: 2, failureThreshold: 1, pauseSeconds: 0, healthTimeoutSeconds: 900, maintenanceWindows: [{ schedule: '0 0 * * *', durationMinutes: 1440, timeZone: 'UTC' }] };
    await client.create(AnvilResources.autoinstallTemplate, template);
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'rollout-e2e', namespaces: [NS] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: boot.url, retryBaseMs: 1000, rolloutHistory: history });
    await manager.start();
  });

  afterAll(() =>
    cleanUpAll([
      () => manager?.stop(),
      () => history?.close(),
      () => boot?.kill(),
      () => boot && rmSync(boot.dir, { recursive: true, force: true }),
      () => lab?.stop(),
      () => cp?.stop(),
      () => pgServer?.stop(),
      () => mirror?.close(),
    ]),
  );

  it('rolls a change out to 4 machines in 2 waves, and halts a revision whose late-command fails, rolling its machines back', async () => {
    const r1 = await newestRevision(0);
    for (const [i, name] of HOSTS.entries()) {
      await client.create(AnvilResources.bareMetalHost, {
        apiVersion: 'anvil.dev/v1alpha1',
        kind: 'BareMetalHost',
        metadata: { name, namespace: NS },
        spec: { bootMACAddress: MACS[i], hostname: name, templateRef: { name: 'fleet' }, secretRefs: [{ name: 'creds', key: 'hash', variable: 'hash' }], provisioning: { maxRetries: 0, timeoutSeconds: 900 } },
      });
    }
    // The first installs (not a rollout's): every machine installs revision 1.
    await bootWaitingHosts(HOSTS);
    for (const name of HOSTS) await waitFor(`${name} Provisioned`, async () => (await getHost(name)).status?.state === 'Provisioned', 60_000);
    await rolloutWhere('idle on revision 1', (r) => r.phase === 'Idle' && r.targetRevision === r1);
    for (const name of HOSTS) expect(consoles.get(name)!.at(-1)).toContain('ANVIL-INSTALLER: late-command: echo one');

    // A late-commands change: wave 1 (node-a, node-b), then wave 2 (node-c, node-d), each machine running the new command.
    await client.patch(AnvilResources.autoinstallTemplate, { namespace: NS, name: 'fleet' }, 'merge', { spec: { userData: userData('echo two') } });
    const r2 = await newestRevision(r1);
    const wave1 = await rolloutWhere('wave 1 of revision 2', (r) => r.phase === 'Rolling' && r.targetRevision === r2 && r.wave === 0);
    expect(wave1.waves).toEqual([{ hosts: ['node-a', 'node-b'] }, { hosts: ['node-c', 'node-d'] }]);
    await bootWaitingHosts(['node-a', 'node-b']);
    await rolloutWhere('wave 2 of revision 2', (r) => r.phase === 'Rolling' && r.targetRevision === r2 && r.wave === 1);
    await bootWaitingHosts(['node-c', 'node-d']);
    await rolloutWhere('revision 2 completed', (r) => r.phase === 'Completed' && r.targetRevision === r2);
    const hash2 = (await getTemplate()).status!.revisions![0]!.contentHash;
    for (const name of HOSTS) {
      expect(await installedHash(name)).toBe(hash2);
      expect(consoles.get(name)!.at(-1)).toContain('ANVIL-INSTALLER: late-command: echo two');
    }

    // A revision whose late-command fails: both machines of wave 1 fail (threshold 1), the rollout halts and they
    // install revision 2 again, which works; node-c and node-d are never asked.
    await client.patch(AnvilResources.autoinstallTemplate, { namespace: NS, name: 'fleet' }, 'merge', { spec: { userData: userData('"false"') } });
    const r3 = await newestRevision(r2);
    await rolloutWhere('wave 1 of revision 3', (r) => r.phase === 'Rolling' && r.targetRevision === r3);
    await bootWaitingHosts(['node-a', 'node-b']);
    for (const name of ['node-a', 'node-b']) expect(consoles.get(name)!.at(-1)).toContain('result FAIL');
    const rollingBack = await rolloutWhere('rolling back', (r) => r.phase === 'RollingBack');
    expect(rollingBack.previousRevision).toBe(r2);
    await bootWaitingHosts(rollingBack.failedHosts ?? []);
    const rolledBack = await rolloutWhere('rolled back', (r) => r.phase === 'RolledBack');
    for (const name of rolledBack.failedHosts ?? []) {
      expect(await installedHash(name)).toBe(hash2);
      expect((await getHost(name)).status?.state).toBe('Provisioned');
    }
    for (const name of ['node-c', 'node-d']) expect((await getHost(name)).spec.templateRef).toEqual({ name: 'fleet', revision: r2 });
    const decisions = (await history!.listRolloutDecisions({ namespace: NS, name: 'fleet' }, { limit: 1000 })).items.map((d) => d.type);
    expect(decisions).toEqual(expect.arrayContaining(['GateVerdict', 'WaveStarted', 'WaveVerified', 'RolloutCompleted', 'RolloutHalted', 'RollbackStarted', 'RolledBack']));
  });
});
