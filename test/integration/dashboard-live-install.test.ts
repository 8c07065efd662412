// The dashboard following a real install live: a BareMetalHost on a real kube-apiserver, the operator's controllers
// in-process, the real boot-server process (history in real PostgreSQL) and the dashboard server in-process, opened in
// Debian's chromium. The machine PXE-boots, fetches its NoCloud seed and posts subiquity's events to the boot-server's
// webhook; the boot-server reflects them into the host's status, the operator acts on the verdict, and the page — never
// reloaded — follows the phase and then the state, and shows the install's timeline from the boot-server's history.
// How fast the page follows is measured by `npm run bench -- --only dashboard`, not asserted here.
import { jest } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AnvilResources, anvilCrds, type AutoinstallTemplate, type BareMetalHost, type ProxmoxTemplate } from '@anvil/core/api';
import { fromSecret } from '@anvil/core/bootconfig';
import { openHistoryStore, type SqlHistoryStore } from '@anvil/core/db';
import { CoreResources, Informer, InformerSet, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { InformerHostSource, InformerTemplateSource, KubeAuthorizer, serveDashboard, type DashboardServer } from '@anvil/dashboard';
import { buildWeb } from '@anvil/dashboard/src/build-web.js';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { successStreamGA, TOP_LEVEL } from '../fixtures/subiquity/streams.js';
import { cleanUpAll } from '../harness/cleanup.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { controlPlaneMissing } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import type { RunningPostgres } from '../harness/postgres.js';
import { startPostgresAndControlPlane } from '../harness/start-together.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';
import { refusedPosts, replay, webhookURLOf } from '../harness/replay.js';

jest.setTimeout(300_000);

const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} is not installed (scripts/setup.sh installs Debian's chromium)` : controlPlaneMissing();
if (skip) console.warn(`dashboard live-install test skipped: ${skip}`);
const maybe = skip ? describe.skip : describe;

const run = randomUUID().slice(0, 8);
const NS = `dash-live-${run}`;
const HOST = 'rack3-node07';
const MAC = `52:54:00:${run.slice(0, 2)}:${run.slice(2, 4)}:07`;
const USER_DATA = '#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: {{ host.hostname | yaml }}\n    username: u\n    password: {{ hash | yaml }}\n';
/** A real SHA-512 crypt hash (of a throwaway password), in a Secret as a user would keep it. */
const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';

maybe('the dashboard follows a real install through the boot-server, in chromium', () => {
  let pgServer: RunningPostgres | undefined;
  let cp: ControlPlane | undefined;
  let client: KubeClient;
  let boot: RunningProcess | undefined;
  let manager: Manager | undefined;
  let history: SqlHistoryStore | undefined;
  let informers: InformerSet<BareMetalHost> | undefined;
  let templateInformers: [InformerSet<AutoinstallTemplate>, InformerSet<ProxmoxTemplate>] | undefined;
  let server: DashboardServer | undefined;
  let browser: Browser | undefined;
  let assetsDir: string | undefined;
  let base: string;

  const getHost = async () => (await client.get<BareMetalHost>(AnvilResources.bareMetalHost, { namespace: NS, name: HOST }))!;

  beforeAll(async () => {
    assetsDir = mkdtempSync(join(tmpdir(), 'anvil-dashboard-web-'));
    const [[postgres, plane]] = await Promise.all([startPostgresAndControlPlane(), buildWeb(assetsDir)]);
    pgServer = postgres;
    cp = plane;
    const databaseUrl = await pgServer.createDatabase('anvil_dashboard_live');
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, NS);
    await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: NS }, stringData: { hash: HASH } });
    await client.create(AnvilResources.autoinstallTemplate, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'AutoinstallTemplate',
      metadata: { name: 'ubuntu', namespace: NS },
      spec: { boot: { kernel: { url: 'http://127.0.0.1:9/vmlinuz', sha256: 'a'.repeat(64) }, initrd: { url: 'http://127.0.0.1:9/initrd', sha256: 'b'.repeat(64) } }, userData: USER_DATA },
    });
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, extraArgs: ['--database-url', databaseUrl, '--namespace', NS] });
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'dashboard-live', namespaces: [NS] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: boot.url, retryBaseMs: 1000 });
    await manager.start();

    // The dashboard as the operator serves it: informer-fed hosts and templates, the history the boot-server writes.
    const log = pino({ level: 'warn' });
    history = await openHistoryStore({ databaseUrl, dataDir: '', migrate: false });
    informers = new InformerSet<BareMetalHost>(AnvilResources.bareMetalHost, [new Informer<BareMetalHost>(client, AnvilResources.bareMetalHost, log, { namespace: NS })]);
    templateInformers = [
      new InformerSet<AutoinstallTemplate>(AnvilResources.autoinstallTemplate, [new Informer<AutoinstallTemplate>(client, AnvilResources.autoinstallTemplate, log, { namespace: NS })]),
      new InformerSet<ProxmoxTemplate>(AnvilResources.proxmoxTemplate, [new Informer<ProxmoxTemplate>(client, AnvilResources.proxmoxTemplate, log, { namespace: NS })]),
    ];
    for (const set of [informers, ...templateInformers]) set.start();
    await Promise.all([informers, ...templateInformers].map((set) => set.waitForSync()));
    server = await serveDashboard({
      port: 0, host: '127.0.0.1', hosts: new InformerHostSource(informers), templates: new InformerTemplateSource(...templateInformers),
      authorizer: new KubeAuthorizer(client, { cacheTtlMs: 2000 }), history, log, assetsDir, heartbeatMs: 5000,
    });
    base = `http://127.0.0.1:${server.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });

  afterAll(() =>
    cleanUpAll([
      () => browser?.close(),
      () => server?.close(),
      () => informers?.stop(),
      ...(templateInformers ?? []).map((set) => () => set.stop()),
      () => history?.close(),
      () => manager?.stop(),
      () => boot?.kill(),
      () => boot && rmSync(boot.dir, { recursive: true, force: true }),
      () => cp?.stop(),
      () => pgServer?.stop(),
      () => assetsDir && rmSync(assetsDir, { recursive: true, force: true }),
    ]),
  );

  /** The machine PXE-boots into the installer: iPXE fetches its script, the installer its NoCloud seed. */
  async function bootIntoInstaller(): Promise<string> {
    const config = await waitFor(`${HOST} install boot config`, async () => {
      const secret = await client.get(CoreResources.secret, { namespace: NS, name: `${HOST}-bootconfig` });
      const c = secret ? fromSecret(secret) : undefined;
      return c?.mode === 'install' ? c : undefined;
    });
    const script = await waitFor(`${HOST} install script`, async () => {
      const text = await (await fetch(`${boot!.url}/ipxe/${MAC.replace(/:/g, '-')}?arch=x86_64&platform=efi`)).text();
      return text.includes('kernel ') ? text : undefined;
    });
    const seed = /ds=nocloud-net;s=(\S+)/.exec(script)![1]!;
    expect((await fetch(`${seed}meta-data`)).status).toBe(200);
    expect((await fetch(`${seed}user-data`)).status).toBe(200);
    return webhookURLOf(config.install!.userData);
  }

  const phaseCell = (page: Page) => page.locator(`tr[data-host="${NS}/${HOST}"] [data-field=phase]`);
  const stateCell = (page: Page) => page.locator(`tr[data-host="${NS}/${HOST}"] [data-field=state]`);

  it('moves the host through its phases to Provisioned as the installer reports, without reloading, and shows the timeline', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 720 } });
    try {
      const page = await context.newPage();
      await page.goto(`${base}/`);
      // The control plane's admin token: TokenReview and SubjectAccessReview of the real API server decide.
      await page.getByLabel('Kubernetes bearer token').fill(cp!.token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('Live', { exact: true }).waitFor();
      await page.evaluate('window.noReload = true');

      await client.create(AnvilResources.bareMetalHost, {
        apiVersion: 'anvil.dev/v1alpha1',
        kind: 'BareMetalHost',
        metadata: { name: HOST, namespace: NS },
        spec: { bootMACAddress: MAC, templateRef: { name: 'ubuntu' }, secretRefs: [{ name: 'creds', key: 'hash', variable: 'hash' }], provisioning: { maxRetries: 0 } },
      });
      // A host created after the page opened appears by itself.
      await stateCell(page).waitFor({ timeout: 60_000 });
      const webhook = await bootIntoInstaller().catch(async (err: unknown) => {
        throw new Error(`${String(err)}; the host's status: ${JSON.stringify((await getHost()).status)}`);
      });
      await stateCell(page).filter({ hasText: 'Installing' }).waitFor({ timeout: 60_000 });

      // The first half of the install: the page shows the phase the boot-server derived from the installer's events.
      const stream = successStreamGA(Date.now() / 1000 - 3600);
      const half = Math.floor(stream.verdictIndex / 2);
      expect(refusedPosts(await replay(webhook, stream.beforeVerdict.slice(0, half)))).toEqual([]);
      const midPhase = await waitFor('the phase of the first half in the host status', async () => {
        const phase = (await getHost()).status?.currentInstall?.phase;
        return phase && phase !== 'waiting for boot' ? phase : undefined;
      }, 60_000);
      await phaseCell(page).filter({ hasText: midPhase }).waitFor({ timeout: 60_000 });
      await expect(stateCell(page).textContent()).resolves.toBe('Installing');

      // The rest, up to the verdict: the operator makes the host Provisioned and the row follows.
      expect(refusedPosts(await replay(webhook, stream.beforeVerdict.slice(half)))).toEqual([]);
      await stateCell(page).filter({ hasText: 'Provisioned' }).waitFor({ timeout: 60_000 });
      await page.locator('[data-count=Provisioned]', { hasText: '1' }).waitFor({ timeout: 60_000 });
      expect(await page.evaluate('window.noReload')).toBe(true);
      expect(refusedPosts(await replay(webhook, stream.afterVerdict))).toEqual([]);

      // The host view: the timeline of this install, read from the history the boot-server wrote.
      await page.locator(`tr[data-host="${NS}/${HOST}"] a`).click();
      const topLevel = page.locator(`table.phases tr[data-phase="${TOP_LEVEL}"]`);
      await topLevel.first().waitFor({ timeout: 60_000 });
      await expect(topLevel.first().textContent()).resolves.toContain('SUCCESS');
      expect(await page.locator('table.phases tr.failed').count()).toBe(0);
      await expect(page.locator('table.boots').textContent()).resolves.toContain('InstallScript');
    } finally {
      await context.close();
    }
  });
});
