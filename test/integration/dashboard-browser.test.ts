// The dashboard in a real browser: Debian's chromium driven by playwright-core, against a real kube-apiserver (the
// BareMetalHosts, ServiceAccount tokens from the TokenRequest API, TokenReview and SubjectAccessReview, RBAC) and the
// real dashboard server (its informer-fed host and template sources, the Kubernetes authorizer, the bundle built by
// esbuild). The install history is the in-memory store (same port, same conformance suite as the SQL stores) holding a
// replayed failed install, a template build and discovered machines. Screenshots of the real page go to docs/images/dashboard-*.png.
import { jest } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Agent, fetch } from 'undici';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AnvilResources, anvilCrds, type AutoinstallTemplate, type BareMetalHost, type ProxmoxTemplate } from '@anvil/core/api';
import { CoreResources, Informer, InformerSet, type KubeClient, type KubeObject, type ResourceType } from '@anvil/core/kube';
import { MemoryHistoryStore } from '@anvil/core/db';
import { InformerBootConfigSource, InformerHostSource, KubeHostEventReader, KubeTemplateRevisionReader, InformerTemplateSource, KubeAuthorizer, KubeHostWriter, serveDashboard, type DashboardServer } from '@anvil/dashboard';
import { BOOT_CONFIG_LABEL, toSecret } from '@anvil/core/bootconfig';
import { buildWeb } from '@anvil/dashboard/src/build-web.js';
import { controlPlaneMissing, startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { ROOT } from '../harness/processes.js';
import { partitioningFailureStream, PARTITIONING_FAILURE } from '../fixtures/subiquity/streams.js';

jest.setTimeout(240_000);

const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} is not installed (scripts/setup.sh installs Debian's chromium)` : controlPlaneMissing();
if (skip) console.warn(`dashboard browser test skipped: ${skip}`);
const maybe = skip ? describe.skip : describe;

const SA: ResourceType = { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true };
const ROLE: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', namespaced: true };
const ROLE_BINDING: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true };
const CLUSTER_ROLE: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false };
const CLUSTER_ROLE_BINDING: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false };

const run = randomUUID().slice(0, 8);
const NS = `dash-${run}`;
const FAILED_INSTALL = randomUUID();

let cp: ControlPlane | undefined;
let client: KubeClient;
let informers: InformerSet<BareMetalHost> | undefined;
let templateInformers: [InformerSet<AutoinstallTemplate>, InformerSet<ProxmoxTemplate>] | undefined;
let bootConfigInformers: InformerSet<KubeObject> | undefined;
const RENDER_TOKEN = `tok-${randomUUID()}`;
let server: DashboardServer | undefined;
let browser: Browser | undefined;
let assetsDir: string | undefined;
let base: string;
const tokens: Record<'viewer' | 'nobody' | 'fleetViewer' | 'operator', string> = { viewer: '', nobody: '', fleetViewer: '', operator: '' };
const actions: string[] = [];
const DISCOVERED_MAC = `52:54:00:${run.slice(2, 4)}:d1:5c`;

/** A ServiceAccount token from the TokenRequest API (what `kubectl create token` asks for). */
async function serviceAccountToken(name: string): Promise<string> {
  await client.create(SA, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: NS } });
  const dispatcher = new Agent({ connect: { ca: readFileSync(cp!.caFile) } });
  try {
    const res = await fetch(`${cp!.server}/api/v1/namespaces/${NS}/serviceaccounts/${name}/token`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${cp!.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } }),
      dispatcher,
    });
    if (!res.ok) throw new Error(`TokenRequest for ${name}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { status: { token: string } }).status.token;
  } finally {
    await dispatcher.close();
  }
}

async function createHost(name: string, labels: Record<string, string>, status: BareMetalHost['status']): Promise<void> {
  await client.create(AnvilResources.bareMetalHost, {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name, namespace: NS, labels },
    spec: { bootMACAddress: `52:54:00:${run.slice(0, 2)}:00:${String(10 + Object.keys(labels).length + name.length).padStart(2, '0')}`, templateRef: { name: 'ubuntu-2404' }, provisioning: { revision: 1 } },
  });
  await client.patch(AnvilResources.bareMetalHost, { namespace: NS, name }, 'merge', { status }, { subresource: 'status' });
}

/** The template the hosts reference (status as the template controller would write it) and a ProxmoxTemplate. */
async function createTemplates(): Promise<void> {
  await client.create(AnvilResources.autoinstallTemplate, { apiVersion: 'anvil.dev/v1alpha1', kind: 'AutoinstallTemplate', metadata: { name: 'ubuntu-2404', namespace: NS }, spec: { installer: 'ubuntu-autoinstall', userData: '#cloud-config\nautoinstall:\n  version: 1\n' } });
  await client.patch(AnvilResources.autoinstallTemplate, { namespace: NS, name: 'ubuntu-2404' }, 'merge', {
    status: { resolvedChain: ['ubuntu-2404'], contentHash: 'sha256:4f2a9c0e1b7d3a5f6c8e9d0b1a2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c', conditions: [{ type: 'Valid', status: 'True', reason: 'Valid', message: 'the template chain compiles', lastTransitionTime: new Date().toISOString() }] },
  }, { subresource: 'status' });
  await client.create(AnvilResources.proxmoxTemplate, {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'ProxmoxTemplate',
    metadata: { name: 'noble', namespace: NS },
    spec: { connection: { url: 'https://127.0.0.1:8006', node: 'pve1', tokenSecretRef: { name: 'pve-token' } }, source: { distribution: 'ubuntu-24.04' } },
  });
  await client.patch(AnvilResources.proxmoxTemplate, { namespace: NS, name: 'noble' }, 'merge', {
    status: { phase: 'Ready', activeVersion: 1, vmid: 9000, templateName: 'noble-v1', versions: [{ version: 1, vmid: 9000, name: 'noble-v1', createdAt: new Date().toISOString() }] },
  }, { subresource: 'status' });
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('Kubernetes bearer token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's Content-Security-Policy refuses any script tag we could add.
  await page.evaluate(readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8'));
  type Violation = { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] };
  // A string, evaluated in the page: this file is typed for Node, not the DOM.
  const violations = await page.evaluate<Violation[]>('axe.run().then((r) => r.violations)');
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

maybe('the dashboard in chromium', () => {
  beforeAll(async () => {
    assetsDir = mkdtempSync(join(tmpdir(), 'anvil-dashboard-web-'));
    const [plane] = await Promise.all([startControlPlane(), buildWeb(assetsDir)]);
    cp = plane;
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, NS);
    await client.create(ROLE, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'host-viewer', namespace: NS },
      rules: [{ apiGroups: ['anvil.dev'], resources: ['baremetalhosts', 'autoinstalltemplates', 'proxmoxtemplates'], verbs: ['get', 'list', 'watch'] }],
    });
    await client.create(ROLE_BINDING, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'host-viewer', namespace: NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'host-viewer' },
      subjects: [{ kind: 'ServiceAccount', name: 'viewer', namespace: NS }],
    });
    // Someone who may act on hosts: patch as well (the dashboard's actions check it with SubjectAccessReview).
    await client.create(ROLE, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'host-operator', namespace: NS },
      rules: [
        { apiGroups: ['anvil.dev'], resources: ['baremetalhosts', 'autoinstalltemplates'], verbs: ['get', 'list', 'watch', 'patch'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
        { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['list'] },
      ],
    });
    await client.create(ROLE_BINDING, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'host-operator', namespace: NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'host-operator' },
      subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: NS }],
    });
    tokens.operator = await serviceAccountToken('operator');
    tokens.viewer = await serviceAccountToken('viewer');
    tokens.nobody = await serviceAccountToken('nobody');
    // Discovered machines belong to no namespace: only a cluster-wide grant shows them.
    await client.create(CLUSTER_ROLE, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `fleet-viewer-${run}` }, rules: [{ apiGroups: ['anvil.dev'], resources: ['baremetalhosts'], verbs: ['list'] }] });
    await client.create(CLUSTER_ROLE_BINDING, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `fleet-viewer-${run}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `fleet-viewer-${run}` },
      subjects: [{ kind: 'ServiceAccount', name: 'fleet-viewer', namespace: NS }],
    });
    tokens.fleetViewer = await serviceAccountToken('fleet-viewer');
    await createTemplates();

    const t0 = Date.parse('2026-03-02T09:00:00Z') / 1000;
    await createHost('rack1-node01', { rack: 'r1' }, { state: 'Provisioned', power: { state: 'On' } });
    await createHost('rack1-node02', { rack: 'r1' }, { state: 'Ready' });
    await createHost('rack2-node01', { rack: 'r2' }, {
      state: 'Failed',
      currentInstall: {
        attempt: 1,
        revision: 1,
        installationId: FAILED_INSTALL,
        startedAt: new Date(t0 * 1000).toISOString(),
        finishedAt: new Date((t0 + 86) * 1000).toISOString(),
        result: 'FAIL',
        failure: { stage: PARTITIONING_FAILURE.stage, reason: PARTITIONING_FAILURE.reason },
      },
    });

    // A failed install replayed into the history: the installer's own event stream, as the boot-server stores it.
    const history = new MemoryHistoryStore();
    await history.recordInstallStarted({ installationId: FAILED_INSTALL, host: { namespace: NS, name: 'rack2-node01', uid: 'uid' }, mac: '52:54:00:aa:00:01', template: { name: 'ubuntu-2404', contentHash: 'sha256:0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d' }, revision: 1, attempt: 1, startedAt: new Date(t0 * 1000) });
    const stream = partitioningFailureStream(t0);
    // Received in the order posted (+i ms): events with equal installer timestamps keep their order, as on a boot-server.
    await history.recordInstallerEvents(stream.events.map((event, i) => ({ installationId: FAILED_INSTALL, event, receivedAt: new Date(event.timestamp * 1000 + i) })));
    const failedHost = await client.get<BareMetalHost>(AnvilResources.bareMetalHost, { namespace: NS, name: 'rack2-node01' });
    await history.recordBootRequests([{ time: new Date(t0 * 1000 - 20_000), mac: failedHost!.spec.bootMACAddress, clientIp: '10.77.0.23', path: '/boot.ipxe', served: 'InstallScript' }]);
    await history.recordDiscovered([{ mac: DISCOVERED_MAC, seenAt: new Date(t0 * 1000), ip: '10.77.0.99', arch: 'x86_64', platform: 'efi', systemUuid: randomUUID() }]);
    await history.recordInstallFinished({ installationId: FAILED_INSTALL, result: 'FAIL', finishedAt: new Date(stream.events[stream.verdictIndex]!.timestamp * 1000), reason: 'InstallerFailed' });

    const log = pino({ level: 'warn' });
    informers = new InformerSet<BareMetalHost>(AnvilResources.bareMetalHost, [new Informer<BareMetalHost>(client, AnvilResources.bareMetalHost, log, { namespace: NS })]);
    const hosts = new InformerHostSource(informers);
    informers.start();
    await informers.waitForSync();
    templateInformers = [
      new InformerSet<AutoinstallTemplate>(AnvilResources.autoinstallTemplate, [new Informer<AutoinstallTemplate>(client, AnvilResources.autoinstallTemplate, log, { namespace: NS })]),
      new InformerSet<ProxmoxTemplate>(AnvilResources.proxmoxTemplate, [new Informer<ProxmoxTemplate>(client, AnvilResources.proxmoxTemplate, log, { namespace: NS })]),
    ];
    for (const set of templateInformers) set.start();
    await Promise.all(templateInformers.map((set) => set.waitForSync()));
    const templates = new InformerTemplateSource(...templateInformers);
    // a published boot config of rack1-node01 (as the operator writes it), for the rendered files
    const node01 = await client.get<BareMetalHost>(AnvilResources.bareMetalHost, { namespace: NS, name: 'rack1-node01' });
    await client.create(CoreResources.secret, toSecret({
      mode: 'install', hostName: 'rack1-node01', hostNamespace: NS, hostUID: node01!.metadata.uid ?? '', mac: node01!.spec.bootMACAddress,
      ipxe: `#!ipxe\nkernel http://10.77.0.1:8080/k ds=nocloud-net;s=http://10.77.0.1:8080/nocloud/x/${RENDER_TOKEN}/\nboot\n`,
      install: {
        installationId: randomUUID(), revision: 1, attempt: 1, token: RENDER_TOKEN, tokenSha256: 'f'.repeat(64),
        userData: '#cloud-config\nautoinstall:\n  identity: {username: ubuntu, password: "$6$salt$hashedvalue"}\n',
        metaData: 'instance-id: rack1-node01-1-1\n',
        kernel: { url: 'http://mirror/k', sha256: 'a'.repeat(64) }, initrd: { url: 'http://mirror/i', sha256: 'b'.repeat(64) },
      },
    }, NS));
    bootConfigInformers = new InformerSet<KubeObject>(CoreResources.secret, [new Informer<KubeObject>(client, CoreResources.secret, log, { namespace: NS, labelSelector: `${BOOT_CONFIG_LABEL}=true` })]);
    bootConfigInformers.start();
    await bootConfigInformers.waitForSync();
    // the writer with the test's admin client, standing in for the operator's ServiceAccount
    const writer = new KubeHostWriter(client, (host, action, note) => actions.push(`${host.namespace}/${host.name} ${action}: ${note}`));
    server = await serveDashboard({ port: 0, host: '127.0.0.1', hosts, templates, authorizer: new KubeAuthorizer(client, { cacheTtlMs: 2000 }), history, writer, bootConfigs: new InformerBootConfigSource(bootConfigInformers), events: new KubeHostEventReader(client), revisions: new KubeTemplateRevisionReader(client), log, assetsDir, heartbeatMs: 5000 });
    base = `http://127.0.0.1:${server.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await informers?.stop();
    for (const set of templateInformers ?? []) await set.stop();
    await bootConfigInformers?.stop();
    await cp?.stop();
    if (assetsDir) rmSync(assetsDir, { recursive: true, force: true });
  });

  it('lists the hosts from the API server and updates a changed host without reloading', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const context = await browser!.newContext({ viewport: { width: 1280, height: 720 }, colorScheme: scheme });
      try {
        const page = await context.newPage();
        await signIn(page, tokens.viewer);
        await page.locator(`tr[data-host="${NS}/rack2-node01"]`).waitFor();
        expect(await page.locator('table.hosts tbody tr').count()).toBe(3);
        await expect(page.locator(`tr[data-host="${NS}/rack1-node01"] [data-field=state]`).textContent()).resolves.toBe('Provisioned');
        await expect(page.locator('[data-count=Failed]').textContent()).resolves.toBe('1');
        await page.getByText('Live', { exact: true }).waitFor();
        expect(await seriousViolations(page)).toEqual([]);
        await page.screenshot({ path: join(ROOT, 'docs/images', scheme === 'light' ? 'dashboard-fleet.png' : 'dashboard-fleet-dark.png') });
        if (scheme === 'dark') continue;

        // The page must not reload: a marker on window survives only an in-place update.
        await page.evaluate('window.noReload = true');
        await client.patch(AnvilResources.bareMetalHost, { namespace: NS, name: 'rack1-node02' }, 'merge', {
          status: { state: 'Installing', currentInstall: { attempt: 1, revision: 1, startedAt: new Date().toISOString(), phase: 'curthooks', progress: '21/30 curtin' } },
        }, { subresource: 'status' });
        await page.locator(`tr[data-host="${NS}/rack1-node02"] [data-field=state]`, { hasText: 'Installing' }).waitFor({ timeout: 30_000 });
        await expect(page.locator(`tr[data-host="${NS}/rack1-node02"]`).textContent()).resolves.toContain('curthooks');
        await page.locator('[data-count=Installing]', { hasText: '1' }).waitFor({ timeout: 30_000 });
        expect(await page.evaluate('window.noReload')).toBe(true);

        // Filters are applied by the server.
        await page.getByRole('button', { name: /^Failed/ }).click();
        await waitFor('the state filter', async () => (await page.locator('table.hosts tbody tr').count()) === 1);
        await page.getByLabel('Labels').fill('rack=r1');
        await page.getByLabel('Labels').press('Enter');
        await page.getByRole('button', { name: /^All/ }).click();
        await waitFor('the label filter', async () => (await page.locator('table.hosts tbody tr').count()) === 2);
      } finally {
        await context.close();
      }
    }
  });

  it('shows the phase chart of a replayed failed install with the failed stage and its reason, and groups it among the failures', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      await signIn(page, tokens.viewer);
      await page.locator(`tr[data-host="${NS}/rack2-node01"] a`).click();
      const failed = page.locator('table.phases tr.failed');
      await failed.waitFor();
      await expect(failed.getAttribute('data-phase')).resolves.toBe(PARTITIONING_FAILURE.event);
      await expect(failed.textContent()).resolves.toContain(PARTITIONING_FAILURE.reason);
      await expect(page.locator('table.phases tr[data-phase="subiquity/Install/install"]').textContent()).resolves.toContain('FAIL');
      await expect(page.locator('table.boots').textContent()).resolves.toMatch(/10\.77\.0\.23.*\/boot\.ipxe.*InstallScript/);
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(ROOT, 'docs/images/dashboard-host.png'), fullPage: true });
      // The raw history is one click away, with the session cookie the page got.
      const href = await page.getByRole('link', { name: 'Raw history JSON' }).getAttribute('href');
      const raw = await page.evaluate<number>(`fetch(${JSON.stringify(href)}).then((r) => r.status)`);
      expect(raw).toBe(200);

      // The failures view groups it by the stage and reason the history derived from the installer's events.
      await page.getByRole('link', { name: 'Failures' }).click();
      const group = page.locator(`table.failures tr[data-stage="${PARTITIONING_FAILURE.stage}"]`);
      await group.waitFor();
      await expect(group.textContent()).resolves.toContain(PARTITIONING_FAILURE.reason);
      await expect(group.getByRole('link').textContent()).resolves.toBe(`${NS}/rack2-node01`);
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(ROOT, 'docs/images/dashboard-failures.png') });
    } finally {
      await context.close();
    }
  });

  it('lists a template created through the API with the hosts using it, and the discovered machines to a cluster-wide viewer', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 720 } });
    try {
      const page = await context.newPage();
      await signIn(page, tokens.viewer);
      await page.getByRole('link', { name: 'Templates' }).click();
      const row = page.locator(`table.templates tr[data-template="${NS}/ubuntu-2404"]`);
      await row.waitFor();
      await expect(row.locator('[data-field=hostCount]').textContent()).resolves.toBe('3');
      expect(await row.locator('[data-template-host]').count()).toBe(3);
      // The failed attempt was rendered with an older content of the template (its hash in the history).
      await expect(row.locator('[data-template-host=rack2-node01]').textContent()).resolves.toMatch(/0c1d2e3f4a5b.*older content/);
      await expect(row.textContent()).resolves.toContain('ubuntu-autoinstall');
      await expect(page.locator(`tr[data-proxmox-template="${NS}/noble"]`).textContent()).resolves.toContain('Ready');
      expect(await page.content()).not.toContain('#cloud-config');
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(ROOT, 'docs/images/dashboard-templates.png'), fullPage: true });
      // A namespaced grant does not show discovered machines (they have no namespace): a 403 saying why.
      await page.getByRole('link', { name: 'Discovered' }).click();
      await expect(page.getByTestId('forbidden').textContent()).resolves.toMatch(/may not list baremetalhosts\.anvil\.dev cluster-wide/);
    } finally {
      await context.close();
    }
    const dark = await browser!.newContext({ viewport: { width: 1280, height: 720 }, colorScheme: 'dark' });
    try {
      const page = await dark.newPage();
      await signIn(page, tokens.viewer);
      await page.getByRole('link', { name: 'Templates' }).click();
      await page.locator(`table.templates tr[data-template="${NS}/ubuntu-2404"]`).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      await dark.close();
    }
    for (const scheme of ['light', 'dark'] as const) {
      const wide = await browser!.newContext({ viewport: { width: 1280, height: 480 }, colorScheme: scheme });
      try {
        const page = await wide.newPage();
        await signIn(page, tokens.fleetViewer);
        await page.getByRole('link', { name: 'Discovered' }).click();
        const row = page.locator(`table.discovered tr[data-mac="${DISCOVERED_MAC}"]`);
        await row.waitFor();
        await expect(row.textContent()).resolves.toMatch(/10\.77\.0\.99.*x86_64.*efi/);
        expect(await seriousViolations(page)).toEqual([]);
        if (scheme === 'light') await page.screenshot({ path: join(ROOT, 'docs/images/dashboard-discovered.png') });
      } finally {
        await wide.close();
      }
    }
  });

  it('accepts a Discovered host with a template and reinstalls a host, for a user whose RBAC allows patching; read-only for a viewer', async () => {
    const name = `discovered-525400${run.slice(0, 6)}`;
    await client.create(AnvilResources.bareMetalHost, { apiVersion: 'anvil.dev/v1alpha1', kind: 'BareMetalHost', metadata: { name, namespace: NS, labels: { 'anvil.dev/discovered': 'true' } }, spec: { bootMACAddress: `52:54:00:${run.slice(0, 2)}:${run.slice(2, 4)}:${run.slice(4, 6)}` } });
    await client.patch(AnvilResources.bareMetalHost, { namespace: NS, name }, 'merge', { status: { state: 'Discovered', discovery: { firstSeen: new Date().toISOString(), manufacturer: 'QEMU' } } }, { subresource: 'status' });
    const getHost = async (n: string) => (await client.get<BareMetalHost>(AnvilResources.bareMetalHost, { namespace: NS, name: n }))!;
    const context = await browser!.newContext({ viewport: { width: 1280, height: 720 } });
    try {
      const page = await context.newPage();
      await signIn(page, tokens.operator);
      await page.goto(`${base}/#/hosts/${NS}/${name}`);
      const accept = page.locator('button[data-action="accept"]');
      await accept.waitFor();
      expect(await page.locator('button[data-action="reinstall"]').getAttribute('title')).toBe(`${NS}/${name} has no template: accept it with one first`);
      await expect(page.getByRole('combobox').inputValue()).resolves.toBe('ubuntu-2404');
      await expect(page.locator('[data-field="discovery"]').textContent()).resolves.toMatch(/^QEMU, first seen /);
      await accept.click();
      await expect(page.getByRole('alertdialog').textContent()).resolves.toContain('Accept this machine with template ubuntu-2404?');
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(ROOT, 'docs/images/dashboard-actions.png') });
      await page.locator('button[data-confirm="yes"]').click();
      await expect(page.locator('[data-field="action-result"]').textContent()).resolves.toBe('Done: accept: spec.templateRef ubuntu-2404');
      const accepted = await getHost(name);
      expect(accepted.spec.templateRef).toEqual({ name: 'ubuntu-2404' });
      expect(accepted.metadata.annotations?.['anvil.dev/last-action']).toMatch(new RegExp(`^accept by system:serviceaccount:${NS}:operator at `));

      // a reinstall: the next revision, through the real API server's JSON patch with its test op
      await page.goto(`${base}/#/hosts/${NS}/rack1-node02`);
      await page.locator('button[data-action="reinstall"]').click();
      await expect(page.getByRole('alertdialog').textContent()).resolves.toContain('from 1 to 2');
      await page.locator('button[data-confirm="yes"]').click();
      await expect(page.locator('[data-field="action-result"]').textContent()).resolves.toBe('Done: reinstall: spec.provisioning.revision 1 -> 2');
      expect((await getHost('rack1-node02')).spec.provisioning?.revision).toBe(2);
      // the rendered files, for a user who may get Secrets here: token and password hash masked
      await page.goto(`${base}/#/hosts/${NS}/rack1-node01`);
      await page.locator('button[data-action="rendered"]').click();
      await page.locator('details[data-file="user-data"] summary').click();
      await expect(page.locator('details[data-file="user-data"] pre').textContent()).resolves.toContain('password: "<password hash>"');
      await page.locator('details[data-file="boot.ipxe"] summary').click();
      await expect(page.locator('details[data-file="boot.ipxe"] pre').textContent()).resolves.toContain('/nocloud/x/<token>/');
      expect(await page.content()).not.toContain(RENDER_TOKEN);
      expect(await seriousViolations(page)).toEqual([]);
      await page.goto(`${base}/#/hosts/${NS}/rack1-node02`);
      await page.locator('button[data-action="reinstall"]').waitFor();
      // the host's Kubernetes Events (one recorded for it, one for another host that must not show)
      const node02 = (await getHost('rack1-node02'))!;
      const node01 = (await getHost('rack1-node01'))!;
      const event = (regarding: BareMetalHost, reason: string, note: string) => ({
        apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: `${regarding.metadata.name}.${randomUUID().slice(0, 8)}`, namespace: NS },
        eventTime: new Date().toISOString().replace('Z', '000Z'), reportingController: 'anvil.dev/operator', reportingInstance: 'test', action: 'Reconcile', type: 'Normal', reason, note,
        regarding: { apiVersion: 'anvil.dev/v1alpha1', kind: 'BareMetalHost', name: regarding.metadata.name, namespace: NS, uid: regarding.metadata.uid },
      });
      await client.create(CoreResources.event, event(node02, 'StateChanged', 'Provisioning: revision 2, attempt 1'));
      await client.create(CoreResources.event, event(node01, 'NotThisHost', 'about rack1-node01'));
      await page.locator('button[data-action="events"]').click();
      const row = page.locator('table.events tr[data-reason="StateChanged"]');
      await row.waitFor();
      await expect(row.textContent()).resolves.toContain('Provisioning: revision 2, attempt 1');
      expect(await page.locator('table.events tr[data-reason="NotThisHost"]').count()).toBe(0);
      // what changed in the template between two attempts: two revisions kept as ControllerRevisions (as the template
      // controller writes them), two finished attempts installed from them
      const CR = { group: 'apps', version: 'v1', kind: 'ControllerRevision', plural: 'controllerrevisions', namespaced: true };
      const userData1 = '#cloud-config\nautoinstall:\n  version: 1\n';
      for (const [rev, userData] of [[1, userData1], [2, `${userData1}  late-commands: [reboot]\n`]] as const) {
        await client.create(CR, { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: `ubuntu-2404-r${rev}`, namespace: NS }, revision: rev, data: { chain: ['ubuntu-2404'], specs: { 'ubuntu-2404': { userData } } } } as KubeObject);
      }
      await client.patch(AnvilResources.autoinstallTemplate, { namespace: NS, name: 'ubuntu-2404' }, 'merge', { status: { revisions: [
        { revision: 2, contentHash: 'sha256:22', controllerRevision: 'ubuntu-2404-r2', createdAt: new Date().toISOString() },
        { revision: 1, contentHash: 'sha256:11', controllerRevision: 'ubuntu-2404-r1', createdAt: new Date().toISOString() },
      ] } }, { subresource: 'status' });
      const finished = (attempt: number, rev: number) => ({ attempt, revision: attempt, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), result: 'SUCCESS', template: { name: 'ubuntu-2404', contentHash: `sha256:${rev}${rev}`, revision: rev } });
      await client.patch(AnvilResources.bareMetalHost, { namespace: NS, name: 'rack1-node02' }, 'merge', { status: { recentInstalls: [finished(2, 2), finished(1, 1)] } }, { subresource: 'status' });
      await page.goto(`${base}/#/hosts/${NS}/rack1-node01`);
      await page.goto(`${base}/#/hosts/${NS}/rack1-node02`);
      const diffButton = page.locator('button[data-diff="1-2"]');
      await diffButton.waitFor({ timeout: 30_000 });
      await diffButton.click();
      await expect(page.locator('[data-field="template-diff"]').textContent()).resolves.toContain('+    late-commands: [reboot]');
      await page.locator('[data-field="template-diff"]').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ROOT, 'docs/images/dashboard-template-diff.png') });
      // no BMC: the reboot button says why it is off
      expect(await page.locator('button[data-action="reboot"]').isDisabled()).toBe(true);
      expect(actions).toEqual([
        `${NS}/${name} accept: accept: spec.templateRef ubuntu-2404 (by system:serviceaccount:${NS}:operator, from the dashboard)`,
        `${NS}/rack1-node02 reinstall: reinstall: spec.provisioning.revision 1 -> 2 (by system:serviceaccount:${NS}:operator, from the dashboard)`,
      ]);

      // a revision that moved since the page read it (a GitOps commit): the API server refuses the test op, 409
      const writer = new KubeHostWriter(client);
      await expect(writer.patchHost(NS, 'rack1-node02', [{ op: 'test', path: '/spec/provisioning/revision', value: 1 }, { op: 'replace', path: '/spec/provisioning/revision', value: 2 }])).rejects.toMatchObject({ status: 409 });

      // a viewer sees the host read-only, and the API refuses it
      const viewer = await browser!.newContext();
      try {
        const p2 = await viewer.newPage();
        await signIn(p2, tokens.viewer);
        await p2.goto(`${base}/#/hosts/${NS}/rack1-node02`);
        await expect(p2.locator('[data-field="actions"]').textContent()).resolves.toContain('Read-only');
        await p2.locator('button[data-action="rendered"]').click();
        await expect(p2.locator('[data-field="rendered-error"]').textContent()).resolves.toMatch(/may not get secrets in namespace/);
        await p2.locator('button[data-action="events"]').click();
        await expect(p2.locator('[data-field="events-error"]').textContent()).resolves.toMatch(/may not list events\.events\.k8s\.io in namespace/);
        const status = await p2.evaluate<number>(`fetch(${JSON.stringify(`${base}/api/hosts/${NS}/rack1-node02/actions/reinstall`)}, { method: 'POST', headers: { Authorization: 'Bearer ' + sessionStorage.getItem('anvil.dashboard.token'), 'Content-Type': 'application/json' }, body: '{}' }).then((r) => r.status)`);
        expect(status).toBe(403);
      } finally {
        await viewer.close();
      }
    } finally {
      await context.close();
    }
  });

  it('shows a token without RBAC a 403 and nothing else, and a bad token the sign-in form again', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 480 } });
    try {
      const page = await context.newPage();
      await signIn(page, tokens.nobody);
      const forbidden = page.getByTestId('forbidden');
      await forbidden.waitFor();
      await expect(forbidden.textContent()).resolves.toMatch(/403: system:serviceaccount:.*:nobody may not list baremetalhosts\.anvil\.dev/);
      expect(await page.locator('table').count()).toBe(0);
      expect(await page.content()).not.toContain('rack1-node01');
      await page.screenshot({ path: join(ROOT, 'docs/images/dashboard-forbidden.png') });

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Kubernetes bearer token').fill('not-a-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toMatch(/did not accept this token/);
    } finally {
      await context.close();
    }
  });
});
