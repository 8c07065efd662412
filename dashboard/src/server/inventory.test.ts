// GET /api/templates and GET /api/discovered against fake ports (templates and hosts in memory, a fixed token and
// RBAC table) and the in-memory history store: the data shape, RBAC per kind and namespace, and no template body or
// secret value in the answer.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import type { AutoinstallTemplate, BareMetalHost, ProxmoxTemplate } from '@anvil/core/api';
import { MemoryHistoryStore } from '@anvil/core/db';
import { dashboardRouter, type DashboardOptions } from './router.js';
import type { TemplatesView } from './templates.js';
import { FakeAuthorizer, FakeHostSource, FakeTemplateSource, fakeHost } from './testing/fakes.js';

const INSTALL_OLD = '0b9d7c1e-8a54-4a8e-9d8e-6b1f6f0a2001';
const INSTALL_NEW = '0b9d7c1e-8a54-4a8e-9d8e-6b1f6f0a2002';
const BUILD = '0b9d7c1e-8a54-4a8e-9d8e-6b1f6f0a2003';

const usingTemplate = (namespace: string, name: string, template: string, installationId?: string): BareMetalHost => {
  const h = fakeHost(namespace, name, { state: 'Provisioned', attempt: 1 });
  h.spec.templateRef = { name: template };
  if (installationId && h.status?.currentInstall) h.status.currentInstall.installationId = installationId;
  return h;
};

const autoinstall = (namespace: string, name: string, extra: Partial<AutoinstallTemplate['spec']> = {}, status: AutoinstallTemplate['status'] = {}): AutoinstallTemplate => ({
  apiVersion: 'anvil.dev/v1alpha1',
  kind: 'AutoinstallTemplate',
  metadata: { namespace, name },
  spec: { userData: '#cloud-config\nautoinstall:\n  identity: {password: "{{ rootHash }}"}  # template-body-marker', defaults: { apiKey: 'default-secret-value' }, ...extra },
  status,
});

const proxmox: ProxmoxTemplate = {
  apiVersion: 'anvil.dev/v1alpha1',
  kind: 'ProxmoxTemplate',
  metadata: { namespace: 'lab-a', name: 'noble' },
  spec: { connection: { url: 'https://pve.example:8006', node: 'pve1', tokenSecretRef: { name: 'pve-token' } }, source: { distribution: 'ubuntu-noble' } } as ProxmoxTemplate['spec'],
  status: {
    phase: 'Downloading',
    activeVersion: 1,
    vmid: 9000,
    templateName: 'noble-v1',
    versions: [{ version: 1, vmid: 9000, name: 'noble-v1', createdAt: '2026-01-01T00:00:00Z' }],
    build: { id: BUILD, version: 2, step: 'download', startedAt: '2026-01-02T00:00:00Z', failures: 1 },
    currentTask: { upid: 'UPID:pve1:0001', type: 'download', node: 'pve1', startedAt: '2026-01-02T00:00:05Z' },
    lastFailedTask: { upid: 'UPID:pve1:0000', type: 'download', exitStatus: 'checksum mismatch', log: 'task-log-marker', finishedAt: '2026-01-01T23:00:00Z' },
  },
};

const hosts = new FakeHostSource([
  usingTemplate('lab-a', 'node-01', 'ubuntu', INSTALL_OLD),
  usingTemplate('lab-a', 'node-02', 'ubuntu', INSTALL_NEW),
  usingTemplate('lab-a', 'node-03', 'ubuntu'),
  usingTemplate('lab-a', 'node-04', 'ubuntu-base'),
  usingTemplate('lab-b', 'db-01', 'ubuntu'),
]);
const templates = new FakeTemplateSource(
  [
    autoinstall('lab-a', 'ubuntu', { extends: 'ubuntu-base', installer: 'ubuntu-autoinstall', rollout: { batchSize: 2 } }, {
      contentHash: 'sha256:new',
      resolvedChain: ['ubuntu-base', 'ubuntu'],
      conditions: [{ type: 'Valid', status: 'True', reason: 'Valid', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      revisions: [{ revision: 3, contentHash: 'sha256:new', controllerRevision: 'ubuntu-new', createdAt: '2026-01-01T00:00:00Z' }],
      rollout: { phase: 'Rolling', targetRevision: 3, previousRevision: 2, wave: 0, waves: [{ hosts: ['node-01', 'node-02'] }, { hosts: ['node-03'] }], failedHosts: [], message: 'wave 1 of 2' },
    }),
    autoinstall('lab-a', 'ubuntu-base'),
    autoinstall('lab-b', 'ubuntu', { installer: 'debian-preseed' }),
  ],
  [proxmox],
);
const authorizer = new FakeAuthorizer(
  {
    'admin-token': { username: 'admin', groups: [] },
    'alice-token': { username: 'alice', groups: [] },
    'tpl-token': { username: 'templates-only', groups: [] },
    'nobody-token': { username: 'nobody', groups: [] },
  },
  { admin: ['*'], alice: ['lab-b'] },
  { autoinstalltemplates: { admin: ['*'], alice: ['lab-b'], 'templates-only': ['lab-a'] }, proxmoxtemplates: { admin: ['*'] } },
);
const history = new MemoryHistoryStore();
const servers: Server[] = [];

async function serve(opts: Partial<DashboardOptions>): Promise<string> {
  const app = express();
  app.use(dashboardRouter({ hosts, authorizer, log: pino({ level: 'silent' }), ...opts }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let base: string;
beforeAll(async () => {
  const started = { mac: '52:54:00:00:00:01', revision: 2, attempt: 1, startedAt: '2026-01-01T00:01:00Z' };
  await history.recordInstallStarted({ ...started, installationId: INSTALL_OLD, host: { namespace: 'lab-a', name: 'node-01', uid: 'u1' }, template: { name: 'ubuntu', contentHash: 'sha256:old' } });
  await history.recordInstallStarted({ ...started, installationId: INSTALL_NEW, host: { namespace: 'lab-a', name: 'node-02', uid: 'u2' }, template: { name: 'ubuntu', contentHash: 'sha256:new' } });
  await history.recordTemplateBuildStarted({ id: BUILD, template: { namespace: 'lab-a', name: 'noble' }, version: '1', startedAt: '2026-01-01T00:00:00Z' });
  await history.recordTemplateBuildFinished({ id: BUILD, result: 'SUCCESS', finishedAt: '2026-01-01T00:04:10Z' });
  await history.recordDiscovered([
    { mac: '52:54:00:aa:bb:01', seenAt: '2026-01-01T00:00:00Z', ip: '10.0.0.20', arch: 'x86_64', platform: 'efi', systemUuid: '4c4c4544-0000-1000-8000-000000000001' },
    { mac: '52:54:00:aa:bb:01', seenAt: '2026-01-01T00:05:00Z', ip: '10.0.0.21' },
    { mac: '52:54:00:aa:bb:02', seenAt: '2026-01-01T00:03:00Z', arch: 'arm64' },
  ]);
  base = await serve({ templates, history });
});
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const get = (path: string, token: string, at = base) => fetch(`${at}${path}`, { headers: { Authorization: `Bearer ${token}` } });

describe('GET /api/templates', () => {
  it('lists each template with its installer, chain, host count and the content hash each host was rendered with', async () => {
    const res = await get('/api/templates', 'admin-token');
    expect(res.status).toBe(200);
    const view = (await res.json()) as TemplatesView;
    expect(view.autoinstall.map((t) => [t.namespace, t.name, t.installer, t.extends, t.hostCount])).toEqual([
      ['lab-a', 'ubuntu', 'ubuntu-autoinstall', 'ubuntu-base', 3],
      ['lab-a', 'ubuntu-base', 'ubuntu-autoinstall', null, 1],
      ['lab-b', 'ubuntu', 'debian-preseed', null, 1],
    ]);
    const [ubuntu] = view.autoinstall;
    expect(ubuntu).toMatchObject({ chain: ['ubuntu-base', 'ubuntu'], valid: 'True', contentHash: 'sha256:new', hostsTruncated: false, revision: 3 });
    expect(ubuntu!.rollout).toEqual({ phase: 'Rolling', targetRevision: 3, previousRevision: 2, wave: 0, waves: 2, failedHosts: [], message: 'wave 1 of 2' });
    expect(view.autoinstall[1]!.rollout).toBeNull();
    expect(ubuntu!.hosts!.map((h) => [h.name, h.contentHash, h.upToDate])).toEqual([
      ['node-01', 'sha256:old', false],
      ['node-02', 'sha256:new', true],
      ['node-03', null, null],
    ]);
    expect(view.proxmox).toEqual([
      expect.objectContaining({
        name: 'noble',
        phase: 'Downloading',
        activeVersion: 1,
        versions: [{ version: 1, vmid: 9000, name: 'noble-v1', createdAt: '2026-01-01T00:00:00Z' }],
        build: { version: 2, step: 'download', startedAt: '2026-01-02T00:00:00Z', failures: 1 },
        currentTask: { type: 'download', node: 'pve1', startedAt: '2026-01-02T00:00:05Z' },
        lastFailedTask: { type: 'download', exitStatus: 'checksum mismatch', finishedAt: '2026-01-01T23:00:00Z' },
        builds: [expect.objectContaining({ version: '1', durationSeconds: 250, result: 'SUCCESS' })],
      }),
    ]);
  });

  it('never sends a template body, its defaults, a credentials reference or a task log', async () => {
    const text = await (await get('/api/templates', 'admin-token')).text();
    expect(text).not.toMatch(/template-body-marker|cloud-config|default-secret-value|rootHash|pve-token|pve\.example|task-log-marker|hunter2|bmc-secret/);
  });

  it('shows each kind only in the namespaces RBAC lets the user list it, and host names only where it may list hosts', async () => {
    const alice = (await (await get('/api/templates', 'alice-token')).json()) as TemplatesView;
    expect(alice.autoinstall.map((t) => `${t.namespace}/${t.name}`)).toEqual(['lab-b/ubuntu']);
    expect(alice.autoinstall[0]!.hosts!.map((h) => h.name)).toEqual(['db-01']);
    expect(alice.proxmox).toEqual([]);
    // May list the templates of lab-a but not its hosts: counts, no host names.
    const res = await get('/api/templates', 'tpl-token');
    const only = (await res.json()) as TemplatesView;
    expect(only.autoinstall.map((t) => [t.name, t.hostCount, t.hosts])).toEqual([
      ['ubuntu', 3, null],
      ['ubuntu-base', 1, null],
    ]);
  });

  it('answers 403 naming both kinds to a user who may list neither', async () => {
    const res = await get('/api/templates', 'nobody-token');
    expect(res.status).toBe(403);
    const body = (await res.json()) as { message: string };
    expect(body.message).toMatch(/nobody may not list autoinstalltemplates\.anvil\.dev in any namespace.*proxmoxtemplates\.anvil\.dev/);
    expect(JSON.stringify(body)).not.toMatch(/ubuntu|noble/);
  });

  it('says so when the server has no template source', async () => {
    const res = await get('/api/templates', 'admin-token', await serve({}));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toMatch(/template source is not available/);
  });
});

describe('GET /api/discovered', () => {
  type Discovered = { history: string; historyMessage?: string; items: Record<string, unknown>[]; nextCursor: string | null };

  it('lists discovered machines, most recently seen first, with their facts and sightings', async () => {
    const res = await get('/api/discovered', 'admin-token');
    expect(res.status).toBe(200);
    const view = (await res.json()) as Discovered;
    expect(view.history).toBe('available');
    expect(view.items).toEqual([
      { mac: '52:54:00:aa:bb:01', firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:05:00.000Z', timesSeen: 2, lastIp: '10.0.0.21', arch: 'x86_64', platform: 'efi', systemUuid: '4c4c4544-0000-1000-8000-000000000001' },
      { mac: '52:54:00:aa:bb:02', firstSeen: '2026-01-01T00:03:00.000Z', lastSeen: '2026-01-01T00:03:00.000Z', timesSeen: 1, lastIp: null, arch: 'arm64', platform: null, systemUuid: null },
    ]);
  });

  it('pages with the history cursor and says what is wrong with a bad query', async () => {
    const first = (await (await get('/api/discovered?limit=1', 'admin-token')).json()) as Discovered;
    expect(first.items.map((d) => d.mac)).toEqual(['52:54:00:aa:bb:01']);
    const second = (await (await get(`/api/discovered?limit=1&cursor=${encodeURIComponent(first.nextCursor!)}`, 'admin-token')).json()) as Discovered;
    expect(second.items.map((d) => d.mac)).toEqual(['52:54:00:aa:bb:02']);
    for (const [q, message] of [
      ['limit=0', /limit must be a whole number from 1 to 500/],
      ['cursor=bm90IGEgY3Vyc29y', /cursor/],
    ] as const) {
      const res = await get(`/api/discovered?${q}`, 'admin-token');
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(message);
    }
  });

  it('needs a cluster-wide list of baremetalhosts: a namespaced grant gets 403 with the reason', async () => {
    for (const token of ['alice-token', 'nobody-token']) {
      const res = await get('/api/discovered', token);
      expect(res.status).toBe(403);
      const text = await res.text();
      expect(text).toMatch(/may not list baremetalhosts\.anvil\.dev cluster-wide.*belong to no namespace/);
      expect(text).not.toMatch(/52:54:00:aa/);
    }
  });

  it('says in the JSON when there is no install history', async () => {
    const res = await get('/api/discovered', 'admin-token', await serve({ templates }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ history: 'unavailable', historyMessage: expect.stringMatching(/without --database-url/), items: [], nextCursor: null, username: 'admin' });
  });
});
