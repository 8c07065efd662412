// Safe updates (issue 26) through the real pieces: a kube-apiserver, the operator's controllers in-process (the
// rollout controller among them), the real boot-server process (history in real PostgreSQL). Four hosts follow an
// AutoinstallTemplate with spec.rollout (2 hosts a wave, halt at 1 failure). Each "machine" fetches its iPXE script and
// NoCloud seed from the boot-server and posts subiquity's event stream to its webhook — a successful install, or a
// failing one where the test plays a broken revision. No QEMU here: the installer's verdict comes from the replayed
// stream (test/fixtures/subiquity), everything else is the product.
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { AnvilResources, anvilCrds } from '@anvil/core/api';
import { fromSecret } from '@anvil/core/bootconfig';
import { openHistoryStore, type SqlHistoryStore } from '@anvil/core/db';
import { historyRouter } from '@anvil/core/history-api';
import express from 'express';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { partitioningFailureStream, successStreamGA, type InstallStream } from '../fixtures/subiquity/streams.js';
import { cleanUpAll } from '../harness/cleanup.js';
import { controlPlaneMissing, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import type { RunningPostgres } from '../harness/postgres.js';
import { startPostgresAndControlPlane } from '../harness/start-together.js';
import { ROOT, startBootServer, type RunningProcess } from '../harness/processes.js';
import { refusedPosts, replay, webhookURLOf } from '../harness/replay.js';
import { rolloutWatch } from '../harness/rollout-watch.js';

jest.setTimeout(600_000);

const skip = controlPlaneMissing();
if (skip) console.warn(`template rollout test skipped: ${skip}`);
const maybe = skip ? describe.skip : describe;

const run = randomUUID().slice(0, 6);
const NS = `rollout-${run}`;
const HOSTS = ['node-a', 'node-b', 'node-c', 'node-d'];
const macOf = (i: number) => `52:54:00:${run.slice(0, 2)}:${run.slice(2, 4)}:${(0x10 + i).toString(16)}`;
const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';
const userData = (late: string, storage = '') =>
  `#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: {{ host.hostname | yaml }}\n    username: u\n    password: {{ hash | yaml }}\n${storage}  late-commands:\n    - ${late}\n`;

maybe('template rollouts: waves, a halted wave rolled back, a gated change', () => {
  let pgServer: RunningPostgres | undefined;
  let cp: ControlPlane | undefined;
  let client: KubeClient;
  let boot: RunningProcess | undefined;
  let manager: Manager | undefined;
  let history: SqlHistoryStore | undefined;
  let api: Server | undefined;
  let apiURL = '';
  /** The installation each host was last booted into by this test. */
  const booted = new Map<string, string>();

  const { getHost, getTemplate, rolloutWhere, newestRevision, installedHash } = rolloutWatch(() => client, NS, 'fleet', HOSTS);

  beforeAll(async () => {
    [pgServer, cp] = await startPostgresAndControlPlane();
    const databaseUrl = await pgServer.createDatabase('anvil_rollout');
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, NS);
    await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: NS }, stringData: { hash: HASH } });
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, extraArgs: ['--database-url', databaseUrl, '--namespace', NS] });
    // The operator with a database: rollout decisions go into the install history, served by its history API.
    history = await openHistoryStore({ databaseUrl, dataDir: '', migrate: false });
    const app = express();
    app.use(historyRouter(history));
    api = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = api.address();
    apiURL = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'rollout', namespaces: [NS] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: boot.url, retryBaseMs: 1000, rolloutHistory: history });
    await manager.start();
  });

  afterAll(() =>
    cleanUpAll([
      () => manager?.stop(),
      () => (api ? new Promise((r) => api!.close(r)) : undefined),
      () => history?.close(),
      () => boot?.kill(),
      () => boot && rmSync(boot.dir, { recursive: true, force: true }),
      () => cp?.stop(),
      () => pgServer?.stop(),
    ]),
  );

  /** The machine network-boots into the installer of its newest attempt and posts the installer's whole stream. */
  async function install(i: number, build: (t0: number) => InstallStream): Promise<void> {
    const name = HOSTS[i]!;
    const config = await waitFor(`${name}: a new install boot config`, async () => {
      const secret = await client.get(CoreResources.secret, { namespace: NS, name: `${name}-bootconfig` });
      const c = secret ? fromSecret(secret) : undefined;
      return c?.mode === 'install' && c.install!.installationId !== booted.get(name) ? c : undefined;
    }, 60_000);
    booted.set(name, config.install!.installationId);
    const mac = macOf(i).replace(/:/g, '-');
    const script = await waitFor(`${name} install script`, async () => {
      const text = await (await fetch(`${boot!.url}/ipxe/${mac}?arch=x86_64&platform=efi`)).text();
      return text.includes(config.install!.token) || text.includes('kernel ') ? text : undefined;
    });
    const seed = /ds=nocloud-net;s=(\S+)/.exec(script)![1]!;
    expect((await fetch(`${seed}user-data`)).status).toBe(200);
    const stream = build(Date.now() / 1000 - 3600);
    expect(refusedPosts(await replay(webhookURLOf(config.install!.userData), stream.events, { msPerInstallerSecond: 1, maxGapMs: 20 }))).toEqual([]);
  }

  /** The anvil CLI as a user runs it (not spawnSync: the operator's controllers run in this process). */
  const anvil = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await promisify(execFile)(join(ROOT, 'scripts', 'anvil'), [...args, '--kubeconfig', cp!.kubeconfigPath, '-n', NS], { env: { ...process.env, NODE_OPTIONS: '' } });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };
  const waitState = (name: string, state: string) => waitFor(`${name} ${state}`, async () => (await getHost(name)).status?.state === state, 120_000);

  it('rolls a post-install change out in two waves, halts a failing revision after the first wave and rolls the failed host back, holds a storage change for approval, rolls back to a kept revision by hand, and stops a second rollback of a host within the window', async () => {
    await client.create(AnvilResources.autoinstallTemplate, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'AutoinstallTemplate',
      metadata: { name: 'fleet', namespace: NS },
      spec: {
        boot: { kernel: { url: 'http://127.0.0.1:9/vmlinuz', sha256: 'a'.repeat(64) }, initrd: { url: 'http://127.0.0.1:9/initrd', sha256: 'b'.repeat(64) } },
        userData: userData('echo one'),
        rollout: { batchSize: 2, failureThreshold: 1, pauseSeconds: 0, maxRollbacks: 1, healthTimeoutSeconds: 600 },
      },
    });
    const r1 = await newestRevision(0);
    for (const [i, name] of HOSTS.entries()) {
      await client.create(AnvilResources.bareMetalHost, {
        apiVersion: 'anvil.dev/v1alpha1',
        kind: 'BareMetalHost',
        metadata: { name, namespace: NS },
        spec: { bootMACAddress: macOf(i), templateRef: { name: 'fleet' }, secretRefs: [{ name: 'creds', key: 'hash', variable: 'hash' }], provisioning: { maxRetries: 0 } },
      });
    }
    // The first installs are not a rollout's: each host installs the template as it is.
    await Promise.all(HOSTS.map((_, i) => install(i, successStreamGA)));
    for (const name of HOSTS) await waitState(name, 'Provisioned');
    const hash1 = (await getTemplate()).status!.revisions![0]!.contentHash;
    expect(await installedHash('node-a')).toBe(hash1);
    await rolloutWhere('idle on revision 1', (r) => r.phase === 'Idle' && r.targetRevision === r1);

    // A post-install change rolls out by itself: wave 1 (node-a, node-b), then wave 2 (node-c, node-d).
    const t = await getTemplate();
    await client.patch(AnvilResources.autoinstallTemplate, { namespace: NS, name: 'fleet' }, 'merge', { spec: { userData: userData('echo two') } });
    const r2 = await newestRevision(r1);
    const wave1 = await rolloutWhere('wave 1 of revision 2', (r) => r.phase === 'Rolling' && r.targetRevision === r2 && r.wave === 0);
    expect(wave1.waves).toEqual([{ hosts: ['node-a', 'node-b'] }, { hosts: ['node-c', 'node-d'] }]);
    expect(wave1.change).toEqual(['post-install (autoinstall.late-commands)']);
    expect(wave1.audit?.map((a) => a.type)).toEqual(expect.arrayContaining(['GateVerdict', 'WaveStarted']));
    expect((await getHost('node-a')).spec.templateRef).toEqual({ name: 'fleet', revision: r2 });
    // The second wave waits for the first.
    expect((await getHost('node-c')).spec.templateRef).toEqual({ name: 'fleet' });
    await Promise.all([install(0, successStreamGA), install(1, successStreamGA)]);
    await rolloutWhere('wave 2 of revision 2', (r) => r.phase === 'Rolling' && r.wave === 1);
    expect((await getHost('node-c')).spec.templateRef).toEqual({ name: 'fleet', revision: r2 });
    await Promise.all([install(2, successStreamGA), install(3, successStreamGA)]);
    const completed = await rolloutWhere('revision 2 completed', (r) => r.phase === 'Completed' && r.targetRevision === r2);
    expect(completed.audit?.[0]?.type).toBe('RolloutCompleted');
    const hash2 = (await getTemplate()).status!.revisions![0]!.contentHash;
    for (const name of HOSTS) expect(await installedHash(name)).toBe(hash2);
    expect(t.status?.revisions?.[0]?.contentHash).toBe(hash1);

    // A revision whose install fails: node-b installs it, node-a's install fails, the rollout halts after wave 1 and
    // node-a installs revision 2 again, which works. Wave 2 never starts.
    await client.patch(AnvilResources.autoinstallTemplate, { namespace: NS, name: 'fleet' }, 'merge', { spec: { userData: userData('"false"') } });
    const r3 = await newestRevision(r2);
    await rolloutWhere('wave 1 of revision 3', (r) => r.phase === 'Rolling' && r.targetRevision === r3);
    await install(1, successStreamGA);
    await install(0, partitioningFailureStream);
    const rollingBack = await rolloutWhere('rolling node-a back', (r) => r.phase === 'RollingBack');
    expect(rollingBack.failedHosts).toEqual(['node-a']);
    expect(rollingBack.previousRevision).toBe(r2);
    expect((await getHost('node-a')).spec.templateRef).toEqual({ name: 'fleet', revision: r2 });
    await install(0, successStreamGA);
    const rolledBack = await rolloutWhere('rolled back', (r) => r.phase === 'RolledBack');
    expect(rolledBack.audit?.map((a) => a.type).slice(0, 3)).toEqual(['RolledBack', 'RollbackStarted', 'RolloutHalted']);
    expect(await installedHash('node-a')).toBe(hash2);
    for (const name of ['node-c', 'node-d']) expect((await getHost(name)).spec.templateRef).toEqual({ name: 'fleet', revision: r2 });
    const healthy = (await getTemplate()).status?.conditions?.find((c) => c.type === 'RolloutHealthy');
    expect(healthy?.status).toBe('True');

    // A storage change waits for a person's approval of exactly that revision.
    await client.patch(AnvilResources.autoinstallTemplate, { namespace: NS, name: 'fleet' }, 'merge', {
      spec: { userData: userData('echo two', '  storage:\n    layout:\n      name: lvm\n') },
    });
    const r4 = await newestRevision(r3);
    const waiting = await rolloutWhere('revision 4 awaiting approval', (r) => r.phase === 'AwaitingApproval' && r.targetRevision === r4);
    expect(waiting.change).toEqual(expect.arrayContaining(['storage (autoinstall.storage)']));
    expect(waiting.message).toContain(`needs approval of revision ${r4}`);
    for (const name of HOSTS) expect((await getHost(name)).spec.templateRef?.revision).not.toBe(r4);
    const shown = await anvil('rollout', 'fleet');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`fleet: AwaitingApproval, revision ${r4} (from ${r2})`);
    expect(shown.stdout).toContain('storage (autoinstall.storage)');
    // Approving a revision is not new content: the revision stays r4, and the rollout starts.
    const approved = await anvil('rollout', 'fleet', '--approve');
    expect(approved).toEqual(expect.objectContaining({ code: 0, stdout: expect.stringContaining(`revision ${r4} approved`) }));
    expect((await getTemplate()).spec.rollout?.approvedRevision).toBe(r4);
    await rolloutWhere('revision 4 rolling after approval', (r) => r.phase === 'Rolling' && r.targetRevision === r4);
    expect((await getTemplate()).status?.revisions?.[0]?.revision).toBe(r4);
    await Promise.all([install(0, successStreamGA), install(1, successStreamGA)]);
    await rolloutWhere('wave 2 of revision 4', (r) => r.phase === 'Rolling' && r.wave === 1);
    await Promise.all([install(2, successStreamGA), install(3, successStreamGA)]);
    await rolloutWhere('revision 4 completed', (r) => r.phase === 'Completed' && r.targetRevision === r4);

    // A manual rollback to a kept revision: it rolls out in waves like any revision (naming it approves it).
    expect((await anvil('rollout', 'fleet', '--to', '99')).code).toBe(2);
    expect((await anvil('rollout', 'fleet', '--to', String(r2))).code).toBe(0);
    const back = await rolloutWhere('rolling back to revision 2', (r) => r.phase === 'Rolling' && r.targetRevision === r2);
    expect(back.previousRevision).toBe(r4);
    await Promise.all([install(0, successStreamGA), install(1, successStreamGA)]);
    await rolloutWhere('wave 2 of the rollback', (r) => r.phase === 'Rolling' && r.targetRevision === r2 && r.wave === 1);
    await Promise.all([install(2, successStreamGA), install(3, successStreamGA)]);
    await rolloutWhere('back on revision 2', (r) => r.phase === 'Completed' && r.targetRevision === r2);
    for (const name of HOSTS) expect(await installedHash(name)).toBe(hash2);

    // Loop prevention: following the newest again with a new revision whose install fails on node-a. node-a was
    // rolled back once within rollbackWindowSeconds already (maxRollbacks 1): the rollout stops for a person.
    await client.patch(AnvilResources.autoinstallTemplate, { namespace: NS, name: 'fleet' }, 'merge', { spec: { userData: userData('echo five'), rollout: { revision: null } } });
    const r5 = await newestRevision(r4);
    await rolloutWhere('wave 1 of revision 5', (r) => r.phase === 'Rolling' && r.targetRevision === r5);
    await install(1, successStreamGA);
    await install(0, partitioningFailureStream);
    const stopped = await rolloutWhere('rollback refused', (r) => r.phase === 'RollbackFailed');
    expect(stopped.message).toMatch(/rollback stopped for node-a: rolled back 1 time\(s\) within 86400 s; a person must look/);
    const unhealthy = (await getTemplate()).status?.conditions?.find((c) => c.type === 'RolloutHealthy');
    expect(unhealthy).toMatchObject({ status: 'False', reason: 'RollbackFailed' });
    // node-a is not asked to install anything again; wave 2 never starts
    expect((await getHost('node-a')).spec.templateRef).toEqual({ name: 'fleet', revision: r5 });
    expect((await getHost('node-c')).spec.templateRef).toEqual({ name: 'fleet', revision: r2 });
    const events = await client.list<KubeObject & { reason?: string; type?: string; regarding?: { name?: string } }>(CoreResources.event, { namespace: NS });
    expect(events.items.filter((e) => e.regarding?.name === 'fleet').map((e) => e.reason)).toEqual(expect.arrayContaining(['WaveStarted', 'RolloutHalted', 'RolledBack', 'RollbackFailed']));
    expect(events.items.find((e) => e.regarding?.name === 'fleet' && e.reason === 'RollbackFailed')).toMatchObject({ type: 'Warning' });

    // Every decision is in the install history with what triggered it, served by the history API and the CLI.
    const decisions = (await history!.listRolloutDecisions({ namespace: NS, name: 'fleet' }, { limit: 1000 })).items;
    const triggers = (type: string) => decisions.filter((d) => d.type === type).map((d) => d.trigger);
    expect(triggers('GateVerdict')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^spec\\.rollout\\.revision=${r2} \\(a manual rollout\\)`)),
        expect.stringMatching(new RegExp(`^spec\\.rollout\\.approvedRevision=${r4}`)),
        expect.stringMatching(new RegExp(`^revision ${r3} of the template`)),
      ]),
    );
    // halted twice: revision 3 (rolled back) and revision 5 (its rollback refused)
    expect(triggers('RolloutHalted')).toEqual(['install results and health checks, rollout controller rollout', 'install results and health checks, rollout controller rollout']);
    expect(triggers('RollbackFailed')).toHaveLength(1);
    expect(decisions.find((d) => d.type === 'RollbackStarted')).toMatchObject({ hosts: ['node-a'], revision: r3 });
    const fromApi = await anvil('rollout', 'fleet', '--api', apiURL);
    expect(fromApi.code).toBe(0);
    expect(fromApi.stdout).toContain('decisions from the install history (newest first):');
    expect(fromApi.stdout).toMatch(/RolloutHalted\s+wave 1: 1 host\(s\) failed, threshold 1 \[node-a\] {2}\(by install results/);
  });
});
