// Replays subiquity-shaped installs (test/fixtures/subiquity) through the real boot-server process (history in real
// PostgreSQL), the operator's controllers in-process and a real kube-apiserver, as a machine would: it PXE-boots,
// fetches its NoCloud seed and posts its installer events with realistic pacing, also after its verdict. Each install
// must end with every event stored exactly once, the right state, failed stage and reason, and a duration by the
// installer's clock. Pacing is compressed and deterministic: the events after the verdict are posted only once the
// operator has acted on it (host Provisioned/Failed, boot config in local mode), which proves the grace period without
// any timing.
import { jest } from '@jest/globals';
import express from 'express';
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import pg from 'pg';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import { fromSecret } from '@anvil/core/bootconfig';
import { openHistoryStore } from '@anvil/core/db';
import type { SqlHistoryStore } from '@anvil/core/db';
import { CoreResources, type KubeClient, type KubeObject, type ResourceType } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { historyRouter } from '@anvil/core/history-api';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { partitioningFailureStream, successStream2404dot2, successStreamGA, TOP_LEVEL, type InstallStream, type SubiquityEvent } from '../fixtures/subiquity/streams.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { HostType } from '../harness/installer-sim.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import type { RunningPostgres } from '../harness/postgres.js';
import { startPostgresAndControlPlane } from '../harness/start-together.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';
import { postEvent, refusedPosts, replay, webhookURLOf } from '../harness/replay.js';

jest.setTimeout(300_000);

type Host = BareMetalHost & KubeObject;
type Template = KubeObject & { spec: Record<string, unknown>; status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] } };

const TemplateType: ResourceType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true };
const ns = `replay-${Date.now().toString(36)}-${process.pid}`;
const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';
const USER_DATA = '#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: {{ host.hostname | yaml }}\n    username: u\n    password: {{ hash | yaml }}\n';
/** Does not compile: an `if` that is never closed. */
const BROKEN_USER_DATA = '#cloud-config\nautoinstall:\n  version: 1\n{% if host.hostname %}\n  identity: {}\n';

const templateSpec = (userData: string) => ({
  boot: { kernel: { url: 'http://127.0.0.1:9/vmlinuz', sha256: 'a'.repeat(64) }, initrd: { url: 'http://127.0.0.1:9/initrd', sha256: 'b'.repeat(64) } },
  userData,
});

const dashed = (mac: string) => mac.replace(/:/g, '-');
const withoutTrailingSlash = (name: string) => name.replace(/\/+$/, '') || name;
/**
 * The installer's clock: two hours behind the server's (a machine whose hardware clock keeps local time, before NTP),
 * so a duration taken between the two clocks cannot pass for the installer's. The replay fast-forwards it.
 */
const installerClockNow = () => Date.now() / 1000 - 2 * 3600;

interface InstallerRunning {
  installationId: string;
  webhook: string;
  seed: string;
}

interface StoredEventRow {
  name: string;
  event_type: string;
  result: string | null;
  description: string | null;
  event_time: Date;
  event_key: string;
}

interface Phase {
  name: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationSeconds: number | null;
  result: string | null;
}

describe('installer replay through boot-server, operator and kube-apiserver', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let pgServer: RunningPostgres;
  let databaseUrl: string;
  let boot: RunningProcess;
  let manager: Manager;
  let store: SqlHistoryStore;
  let pool: pg.Pool;
  let api: Server;
  let apiURL: string;

  const getHost = async (name: string) => (await client.get<Host>(HostType, { namespace: ns, name }))!;
  const published = async (name: string) => {
    const secret = await client.get(CoreResources.secret, { namespace: ns, name: `${name}-bootconfig` });
    const config = secret ? fromSecret(secret) : undefined;
    return secret && config ? { secret, config } : undefined;
  };
  const waitState = (name: string, state: string) => waitFor(`${name} ${state}`, async () => ((await getHost(name)).status?.state === state ? getHost(name) : undefined), 60_000);

  beforeAll(async () => {
    [pgServer, cp] = await startPostgresAndControlPlane();
    databaseUrl = await pgServer.createDatabase('anvil_replay');
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
    await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: ns }, stringData: { hash: HASH } });
    await client.create(TemplateType, { apiVersion: 'anvil.dev/v1alpha1', kind: 'AutoinstallTemplate', metadata: { name: 'ubuntu', namespace: ns }, spec: templateSpec(USER_DATA) });
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, extraArgs: ['--database-url', databaseUrl, '--namespace', ns] });
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'replay', namespaces: [ns] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: boot.url, retryBaseMs: 1000 });
    await manager.start();
    store = await openHistoryStore({ databaseUrl, dataDir: '', migrate: false });
    pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    const app = express();
    app.use(historyRouter(store));
    api = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = api.address();
    apiURL = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    const steps: (() => Promise<unknown> | undefined)[] = [
      () => manager?.stop(),
      () => boot?.kill(),
      () => (boot ? Promise.resolve(rmSync(boot.dir, { recursive: true, force: true })) : undefined),
      () => (api ? new Promise((r) => api.close(r)) : undefined),
      () => store?.close(),
      () => pool?.end(),
      () => cp?.stop(),
      () => pgServer?.stop(),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch {
        // the rest must still be cleaned up
      }
    }
  });

  async function createHost(name: string, mac: string, template = 'ubuntu'): Promise<void> {
    await client.create(HostType, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'BareMetalHost',
      metadata: { name, namespace: ns },
      spec: {
        bootMACAddress: mac,
        templateRef: { name: template },
        secretRefs: [{ name: 'creds', key: 'hash', variable: 'hash' }],
        // A failed install stays Failed (no retry publishing a new attempt while the test looks at this one).
        provisioning: { maxRetries: 0 },
      },
    });
  }

  /** The machine PXE-boots into the installer: iPXE fetches its script, the installer its NoCloud seed. */
  async function bootIntoInstaller(name: string, mac: string): Promise<InstallerRunning> {
    const { config } = await waitFor(`${name} install boot config`, async () => {
      const p = await published(name);
      return p?.config.mode === 'install' ? p : undefined;
    });
    const script = await waitFor(`${name} install script`, async () => {
      const text = await (await fetch(`${boot.url}/ipxe/${dashed(mac)}?arch=x86_64&platform=efi`)).text();
      return text.includes('kernel ') ? text : undefined;
    });
    const seed = /ds=nocloud-net;s=(\S+)/.exec(script)![1]!;
    expect((await fetch(`${seed}meta-data`)).status).toBe(200);
    const userData = await fetch(`${seed}user-data`);
    expect(userData.status).toBe(200);
    expect(await userData.text()).toBe(config.install!.userData);
    await waitState(name, 'Installing');
    return { installationId: config.install!.installationId, webhook: webhookURLOf(config.install!.userData), seed };
  }

  /** The operator has processed the verdict: the host's state is final and its boot config says boot from disk. */
  const verdictActedOn = (name: string, state: 'Provisioned' | 'Failed') =>
    waitFor(`${name} ${state} with a local boot config`, async () => (await getHost(name)).status?.state === state && (await published(name))?.config.mode === 'local', 60_000);

  /** The boot-server serves the attempt's seed no more: it has the boot config the operator wrote after the verdict. */
  const seedClosed = (installer: InstallerRunning) =>
    waitFor('NoCloud seed refused after the verdict', async () => (await fetch(`${installer.seed}user-data`)).status === 404 && (await fetch(`${installer.seed}meta-data`)).status === 404);

  /** What the next PXE boot of the machine gets: the local-boot script (once the boot-server has the local config). */
  const nextBoot = (mac: string) =>
    waitFor('local-boot script', async () => {
      const text = await (await fetch(`${boot.url}/ipxe/${dashed(mac)}?arch=x86_64&platform=efi`)).text();
      return /\nexit\n$/.test(text) ? text : undefined;
    });

  async function storedEvents(installationId: string, expected: number): Promise<StoredEventRow[]> {
    await waitFor(
      `${expected} installer events of ${installationId} in the history`,
      async () => {
        const r = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM installer_events WHERE installation_id = $1', [installationId]);
        return r.rows[0]!.n >= expected;
      },
      60_000,
      250,
    );
    const r = await pool.query<StoredEventRow>('SELECT name, event_type, result, description, event_time, event_key FROM installer_events WHERE installation_id = $1', [installationId]);
    return r.rows;
  }

  /** Each posted event is in the history once: same count, no repeated key, the same events (as a multiset). */
  function expectStoredExactlyOnce(rows: readonly StoredEventRow[], posted: readonly SubiquityEvent[]): void {
    expect(rows).toHaveLength(posted.length);
    expect(new Set(rows.map((r) => r.event_key)).size).toBe(rows.length);
    const fingerprint = (name: string, type: string, result: string | null | undefined, description: string | null | undefined) =>
      `${type} ${withoutTrailingSlash(name)} ${result ?? '-'} "${description ?? ''}"`;
    const sortedStrings = (xs: string[]) => [...xs].sort();
    expect(sortedStrings(rows.map((r) => fingerprint(r.name, r.event_type, r.result, r.description)))).toEqual(
      sortedStrings(posted.map((e) => fingerprint(e.name, e.event_type, e.result, e.description))),
    );
    // Stored on the installer's clock (millisecond precision).
    const storedTimes = rows.map((r) => r.event_time.getTime()).sort((a, b) => a - b);
    const postedTimes = posted.map((e) => e.timestamp * 1000).sort((a, b) => a - b);
    storedTimes.forEach((t, i) => expect(Math.abs(t - postedTimes[i]!)).toBeLessThanOrEqual(1));
  }

  async function installationRow(installationId: string): Promise<Record<string, unknown>> {
    return waitFor(`installation ${installationId} finished in the history`, async () => {
      const r = await pool.query<Record<string, unknown>>('SELECT * FROM installations WHERE id = $1', [installationId]);
      return r.rows[0]?.result ? r.rows[0] : undefined;
    });
  }

  async function timeline(installationId: string): Promise<Phase[]> {
    const res = await fetch(`${apiURL}/api/v1/installations/${installationId}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { phases: Phase[] }).phases;
  }

  /** The whole install, as a machine runs it; returns what the checks below need. */
  async function replayInstall(name: string, mac: string, build: (t0: number) => InstallStream) {
    await createHost(name, mac);
    const installer = await bootIntoInstaller(name, mac);
    const stream = build(installerClockNow());

    const beforeVerdict = await replay(installer.webhook, stream.beforeVerdict);
    expect(refusedPosts(beforeVerdict)).toEqual([]);
    await verdictActedOn(name, stream.expected.result === 'SUCCESS' ? 'Provisioned' : 'Failed');
    // NoCloud closes with the verdict (once the boot-server sees the new boot config); the webhook stays open.
    await seedClosed(installer);
    const afterVerdict = await replay(installer.webhook, stream.afterVerdict);
    expect(refusedPosts(afterVerdict)).toEqual([]);

    const rows = await storedEvents(installer.installationId, stream.events.length);
    expectStoredExactlyOnce(rows, stream.events);

    const installation = await installationRow(installer.installationId);
    expect(installation.result).toBe(stream.expected.result);
    expect(Number(installation.duration_seconds)).toBe(stream.expected.durationSeconds);

    const phases = await timeline(installer.installationId);
    const phaseNames = new Set(phases.map((p) => withoutTrailingSlash(p.name)));
    expect([...new Set(stream.afterVerdict.map((e) => e.name))].filter((n) => !phaseNames.has(n))).toEqual([]);
    const verdict = stream.events[stream.verdictIndex]!;
    const installStart = stream.events.find((e) => e.name === TOP_LEVEL && e.event_type === 'start')!;
    const topLevel = phases.find((p) => p.name === TOP_LEVEL && p.finishedAt !== null);
    expect(topLevel).toMatchObject({ result: stream.expected.result });
    expect(topLevel!.durationSeconds).toBeCloseTo(verdict.timestamp - installStart.timestamp, 1);

    return { host: await getHost(name), installation, stream };
  }

  it('24.04 GA success: late-commands, copy_logs and shutdown after the verdict are all stored once', async () => {
    const { host, installation } = await replayInstall('ga', '52:54:00:5e:00:01', successStreamGA);
    expect(host.status?.state).toBe('Provisioned');
    expect(host.status?.currentInstall).toMatchObject({ result: 'SUCCESS' });
    expect(host.status?.currentInstall?.failure).toBeUndefined();
    expect(installation.failure_stage ?? null).toBeNull();
  });

  it('24.04.2 success: late-commands inside the install, copy_logs and shutdown after the verdict', async () => {
    const { host, installation } = await replayInstall('noble2', '52:54:00:5e:00:02', successStream2404dot2);
    expect(host.status?.state).toBe('Provisioned');
    expect(host.status?.currentInstall).toMatchObject({ result: 'SUCCESS' });
    expect(host.status?.currentInstall?.failure).toBeUndefined();
    expect(installation.failure_stage ?? null).toBeNull();
  });

  it('partitioning failure: Failed with the deepest FAIL as reason, crash report and error-commands stored after the verdict', async () => {
    const { host, installation, stream } = await replayInstall('broken-disk', '52:54:00:5e:00:03', partitioningFailureStream);
    const failure = stream.expected.failure!;
    expect(host.status?.state).toBe('Failed');
    expect(host.status?.currentInstall).toMatchObject({ result: 'FAIL' });
    expect(host.status?.currentInstall?.failure).toEqual(failure);
    expect(host.status?.errorMessage).toContain(failure.reason);
    expect(host.status?.recentInstalls?.[0]).toMatchObject({ reason: 'InstallerFailed' });
    expect(installation).toMatchObject({ failure_stage: 'partitioning' });
    expect(String(installation.failure_message)).toContain(failure.reason);
  });

  it('grace period ends early: once the host boots again (local-boot script), the old token gets 404', async () => {
    const name = 'rebooted';
    const mac = '52:54:00:5e:00:04';
    await createHost(name, mac);
    const installer = await bootIntoInstaller(name, mac);
    const stream = successStreamGA(installerClockNow());
    expect(refusedPosts(await replay(installer.webhook, stream.beforeVerdict))).toEqual([]);
    await verdictActedOn(name, 'Provisioned');
    const [late, later] = stream.afterVerdict;
    await seedClosed(installer);
    expect((await postEvent(installer.webhook, late!)).status).toBe(200);

    expect(await nextBoot(mac)).not.toContain('kernel');
    const refused = await postEvent(installer.webhook, later!);
    expect(refused.status).toBe(404);

    const rows = await storedEvents(installer.installationId, stream.verdictIndex + 2);
    expectStoredExactlyOnce(rows, [...stream.beforeVerdict, late!]);
  });

  it('NoCloud user-data with the old token is refused right after the verdict while the webhook still takes events', async () => {
    const name = 'seed-closed';
    const mac = '52:54:00:5e:00:05';
    await createHost(name, mac);
    const installer = await bootIntoInstaller(name, mac);
    const stream = partitioningFailureStream(installerClockNow());
    expect(refusedPosts(await replay(installer.webhook, stream.beforeVerdict))).toEqual([]);
    await verdictActedOn(name, 'Failed');
    await seedClosed(installer);
    expect((await postEvent(installer.webhook, stream.afterVerdict[0]!)).status).toBe(200);
  });

  /**
   * The template stops rendering while an attempt is under way (`when`: published and waiting for the machine, or the
   * installer running): the attempt keeps the boot config it was published with, its SUCCESS ends in Provisioned
   * and the machine's next boot is local, with no reinstall loop.
   */
  async function installWithTemplateBroken(name: string, mac: string, when: 'Provisioning' | 'Installing'): Promise<void> {
    const template = `${name}-template`;
    await client.create(TemplateType, { apiVersion: 'anvil.dev/v1alpha1', kind: 'AutoinstallTemplate', metadata: { name: template, namespace: ns }, spec: templateSpec(USER_DATA) });
    await createHost(name, mac, template);
    const before = await waitFor(`${name} install boot config`, async () => {
      const p = await published(name);
      return p?.config.mode === 'install' ? p : undefined;
    });
    const breakTemplate = async () => {
      const current = (await client.get<Template>(TemplateType, { namespace: ns, name: template }))!;
      const patched = await client.patch<Template>(TemplateType, { namespace: ns, name: template }, 'merge', { spec: { userData: BROKEN_USER_DATA } });
      expect(patched.metadata.generation).toBeGreaterThan(current.metadata.generation!);
      await waitFor('the template controller saw the broken template', async () => {
        const t = (await client.get<Template>(TemplateType, { namespace: ns, name: template }))!;
        return t.status?.observedGeneration === patched.metadata.generation && t.status?.conditions?.some((c) => c.type === 'Valid' && c.status === 'False');
      });
    };
    const expectPublishedUnchanged = async () => {
      const now = (await published(name))!;
      expect(now.secret.metadata.resourceVersion).toBe(before.secret.metadata.resourceVersion);
      expect((now.secret as KubeObject & { data?: unknown }).data).toEqual((before.secret as KubeObject & { data?: unknown }).data);
    };

    if (when === 'Provisioning') {
      await waitState(name, 'Provisioning');
      await breakTemplate();
    }
    const installer = await bootIntoInstaller(name, mac);
    expect(installer.installationId).toBe(before.config.install!.installationId);
    if (when === 'Installing') await breakTemplate();

    const stream = successStream2404dot2(installerClockNow());
    expect(refusedPosts(await replay(installer.webhook, stream.beforeVerdict.slice(0, -1)))).toEqual([]);
    // The template changed and a whole install was reported since: the attempt still has what it was published with.
    await expectPublishedUnchanged();

    expect((await postEvent(installer.webhook, stream.beforeVerdict.at(-1)!)).status).toBe(200);
    await waitState(name, 'Provisioned');
    expect(await nextBoot(mac)).not.toContain('kernel');
  }

  it('a template broken while the attempt waits for the machine: it installs with what was published, ends Provisioned, next boot local', () =>
    installWithTemplateBroken('tmpl-waiting', '52:54:00:5e:00:06', 'Provisioning'));

  it('a template broken mid-install: the published boot config stays, SUCCESS ends Provisioned, the next boot is local', () =>
    installWithTemplateBroken('tmpl-installing', '52:54:00:5e:00:07', 'Installing'));
});
