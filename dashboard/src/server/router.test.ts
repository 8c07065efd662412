// The dashboard's routes against fake ports (hosts in memory, a fixed token and RBAC table) and the in-memory history
// store: who gets in, what they see, filtering and paging, the host view, and the event stream.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import pino from 'pino';
import { MemoryHistoryStore } from '@anvil/core/db';
import { dashboardRouter } from './router.js';
import { FakeAuthorizer, FakeHostSource, fakeHost } from './testing/fakes.js';

const hosts = new FakeHostSource([
  fakeHost('lab-a', 'node-01', { state: 'Provisioned', labels: { rack: 'r1' } }),
  fakeHost('lab-a', 'node-02', { state: 'Installing', labels: { rack: 'r1' }, phase: 'curthooks', attempt: 3 }),
  fakeHost('lab-a', 'node-03', { state: 'Failed', labels: { rack: 'r2' } }),
  fakeHost('lab-b', 'db-01', { state: 'Provisioned', labels: { rack: 'r2' } }),
]);
const authorizer = new FakeAuthorizer(
  {
    'admin-token': { username: 'admin', groups: ['system:masters'] },
    'alice-token': { username: 'alice', groups: [] },
    'nobody-token': { username: 'nobody', groups: [] },
  },
  { admin: ['*'], alice: ['lab-b'] },
);
const history = new MemoryHistoryStore();
const assets = mkdtempSync(join(tmpdir(), 'anvil-dashboard-assets-'));
let server: Server;
let base: string;

beforeAll(async () => {
  writeFileSync(join(assets, 'manifest.json'), JSON.stringify({ script: 'main-ABCD1234.js', stylesheet: 'main-EFGH5678.css' }));
  writeFileSync(join(assets, 'main-ABCD1234.js'), 'console.log("app")');
  const app = express();
  app.use('/dash', dashboardRouter({ hosts, authorizer, history, log: pino({ level: 'silent' }), assetsDir: assets, heartbeatMs: 50 }));
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dash`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(assets, { recursive: true, force: true });
});

const get = (path: string, token?: string) => fetch(`${base}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
const json = async (path: string, token = 'admin-token') => {
  const res = await get(path, token);
  expect(res.status).toBe(200);
  return (await res.json()) as { items: { namespace: string; name: string; state: string; phase: string | null; attempt: number | null }[]; total: number; counts: Record<string, number> };
};

describe('authentication and RBAC', () => {
  it('answers 401 with a message without a token, with a bad one, and with a malformed header', async () => {
    for (const [headers, message] of [
      [{}, /sign in with a Kubernetes bearer token/],
      [{ Authorization: 'Bearer wrong' }, /did not accept this token/],
      [{ Authorization: 'Basic abc' }, /must be "Bearer <token>"/],
    ] as const) {
      const res = await fetch(`${base}/api/hosts`, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'Unauthorized', message: expect.stringMatching(message) });
    }
  });

  it('answers 403 to a user who may list hosts nowhere, and shows nothing', async () => {
    for (const path of ['/api/hosts', '/api/hosts/lab-a/node-01', '/api/events']) {
      const res = await get(path, 'nobody-token');
      expect(res.status).toBe(403);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe('Forbidden');
      expect(body.message).toMatch(/nobody may not list baremetalhosts\.anvil\.dev/);
      expect(JSON.stringify(body)).not.toMatch(/node-0/);
    }
  });

  it('shows a user only the namespaces RBAC lets it list', async () => {
    const page = await json('/api/hosts', 'alice-token');
    expect(page.items.map((h) => `${h.namespace}/${h.name}`)).toEqual(['lab-b/db-01']);
    expect((await get('/api/hosts?namespace=lab-a', 'alice-token')).status).toBe(403);
    expect((await get('/api/hosts/lab-a/node-01', 'alice-token')).status).toBe(403);
    expect((await get('/api/hosts/lab-b/db-01', 'alice-token')).status).toBe(200);
  });
});

describe('GET /api/hosts', () => {
  it('filters by namespace, label and state on the server, counting per state', async () => {
    expect((await json('/api/hosts?namespace=lab-a')).total).toBe(3);
    const r1 = await json('/api/hosts?labelSelector=rack%3Dr1');
    expect(r1.items.map((h) => h.name)).toEqual(['node-01', 'node-02']);
    expect(r1.items[1]).toMatchObject({ state: 'Installing', phase: 'curthooks', attempt: 3 });
    const failed = await json('/api/hosts?state=Failed,Installing');
    expect(failed.items.map((h) => h.name)).toEqual(['node-02', 'node-03']);
    // Counts follow the other filters, not the state filter: they are what the state filter chooses from.
    expect(failed.counts).toMatchObject({ Provisioned: 2, Installing: 1, Failed: 1, Pending: 0 });
    expect((await json('/api/hosts?labelSelector=rack!%3Dr1')).items.map((h) => h.name)).toEqual(['node-03', 'db-01']);
  });

  it('pages, sorted by namespace and name', async () => {
    const first = await json('/api/hosts?limit=2');
    const second = await json('/api/hosts?limit=2&offset=2');
    expect([...first.items, ...second.items].map((h) => `${h.namespace}/${h.name}`)).toEqual(['lab-a/node-01', 'lab-a/node-02', 'lab-a/node-03', 'lab-b/db-01']);
    expect(first.total).toBe(4);
  });

  it('says what is wrong with a bad query', async () => {
    for (const [q, message] of [
      ['state=Sleeping', /state "Sleeping" is not one of Pending/],
      ['limit=0', /limit must be a whole number from 1 to 500/],
      ['labelSelector=%3D%3Dx', /label selector "==x"/],
    ]) {
      const res = await get(`/api/hosts?${q}`, 'admin-token');
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(message!);
    }
  });
});

describe('GET /api/hosts/:namespace/:name', () => {
  it('shows status and each attempt as nested phases with the failed stage, and no secret value', async () => {
    const id = '0b9d7c1e-8a54-4a8e-9d8e-6b1f6f0a0a01';
    await history.recordInstallStarted({ installationId: id, host: { namespace: 'lab-a', name: 'node-03', uid: 'u3' }, mac: '52:54:00:00:00:01', revision: 2, attempt: 1, startedAt: '2026-01-01T00:01:00Z' });
    const ev = (name: string, event_type: string, timestamp: number, result?: string, description = '') => ({ installationId: id, receivedAt: new Date(timestamp * 1000), event: { name, event_type, timestamp, description, ...(result ? { result } : {}) } });
    await history.recordInstallerEvents([
      ev('subiquity/Install', 'start', 1767225660),
      ev('subiquity/Install/install', 'start', 1767225670),
      ev('subiquity/Install/install', 'finish', 1767225700, 'FAIL', 'disk /dev/sda not found'),
      ev('subiquity/Install', 'finish', 1767225710, 'FAIL'),
    ]);
    await history.recordBootRequests([{ time: '2026-01-01T00:01:30Z', mac: '52:54:00:00:00:01', clientIp: '10.0.0.9', path: '/nocloud/52:54:00:00:00:01/[token]/user-data', served: 'UserData' }]);
    const res = await get('/api/hosts/lab-a/node-03', 'admin-token');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toMatch(/hunter2|bmc-secret|redfish:/);
    const detail = JSON.parse(text) as { bootRequests: { served: string; clientIp: string }[]; spec: { secretRefs: unknown[] }; attempts: { phases: { name: string; durationSeconds: number; result: string }[]; failedPhase: number }[] };
    expect(detail.bootRequests).toEqual([expect.objectContaining({ clientIp: '10.0.0.9', served: 'UserData' })]);
    expect(detail.spec.secretRefs).toEqual([{ variable: 'passwordHash', secret: 'root-password', key: 'hash' }]);
    const [attempt] = detail.attempts;
    expect(attempt!.phases.map((p) => [p.name, p.durationSeconds, p.result])).toEqual([
      ['subiquity/Install', 50, 'FAIL'],
      ['subiquity/Install/install', 30, 'FAIL'],
    ]);
    expect(attempt!.phases[attempt!.failedPhase]!.name).toBe('subiquity/Install/install');
    const raw = await get(`/api/hosts/lab-a/node-03/installations/${id}`, 'admin-token');
    expect(((await raw.json()) as { events: unknown[] }).events).toHaveLength(4);
    expect((await get(`/api/hosts/lab-a/node-01/installations/${id}`, 'admin-token')).status).toBe(404);
  });

  it('answers 404 for a host that does not exist', async () => {
    const res = await get('/api/hosts/lab-a/ghost', 'admin-token');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'NotFound', message: 'no BareMetalHost lab-a/ghost' });
  });
});

describe('GET /api/failures', () => {
  it('groups failed installs by stage and reason, in the namespaces the user may list', async () => {
    const fail = async (namespace: string, name: string, attempt: number, failedStage: string, message: string) => {
      const installationId = `0b9d7c1e-8a54-4a8e-9d8e-6b1f6f0a1${String(attempt).padStart(3, '0')}`;
      await history.recordInstallStarted({ installationId, host: { namespace, name, uid: name }, mac: '52:54:00:00:00:01', revision: 2, attempt, startedAt: '2026-01-01T00:01:00Z' });
      await history.recordInstallFinished({ installationId, result: 'FAIL', finishedAt: new Date(), failedStage, message, reason: 'InstallerFailed' });
    };
    await fail('lab-a', 'node-01', 101, 'partitioning', 'disk /dev/sda not found');
    await fail('lab-b', 'db-01', 102, 'partitioning', 'disk /dev/sda not found');
    await fail('lab-b', 'db-01', 103, 'curthooks', 'grub-install failed');
    type Report = { total: number; groups: { stage: string; reason: string; count: number; attempts: { namespace: string; name: string }[] }[] };
    const admin = (await (await get('/api/failures?since=1h', 'admin-token')).json()) as Report;
    expect(admin.groups.map((g) => [g.stage, g.reason, g.count])).toEqual([
      ['partitioning', 'disk /dev/sda not found', 2],
      ['curthooks', 'grub-install failed', 1],
    ]);
    const alice = (await (await get('/api/failures?since=1h', 'alice-token')).json()) as Report;
    expect(alice.total).toBe(2);
    expect(alice.groups.flatMap((g) => g.attempts.map((a) => `${a.namespace}/${a.name}`))).toEqual(['lab-b/db-01', 'lab-b/db-01']);
    expect((await get('/api/failures', 'nobody-token')).status).toBe(403);
    const bad = await get('/api/failures?since=forever', 'admin-token');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/since must be a duration such as 30m, 24h, 7d/);
  });
});

/** Reads server-sent events until `until` says stop; returns them. */
async function readEvents(res: Response, until: (events: { event: string; data: unknown }[]) => boolean): Promise<{ event: string; data: unknown }[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: { event: string; data: unknown }[] = [];
  let buffer = '';
  try {
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event) events.push({ event, data: data ? JSON.parse(data) : undefined });
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}

describe('GET /api/events', () => {
  it('streams host changes from the watch, only of visible namespaces, with heartbeats, via the session cookie', async () => {
    const session = await fetch(`${base}/api/session`, { method: 'POST', headers: { Authorization: 'Bearer alice-token' } });
    expect(session.status).toBe(200);
    const cookie = session.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/api/);
    const res = await fetch(`${base}/api/events`, { headers: { Cookie: cookie.split(';')[0]! } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const watchersBefore = hosts.watchers;
    const reading = readEvents(res, (evs) => evs.some((e) => e.event === 'host') && evs.some((e) => e.event === 'heartbeat'));
    // Once the stream is open: a change in a namespace alice may not see, then one she may.
    while (hosts.watchers === 0) await new Promise((r) => setTimeout(r, 5));
    hosts.put(fakeHost('lab-a', 'node-01', { state: 'Failed' }));
    hosts.put(fakeHost('lab-b', 'db-01', { state: 'Installing', phase: 'extract' }));
    const events = await reading;
    expect(events[0]).toEqual({ event: 'ready', data: { username: 'alice' } });
    const hostEvents = events.filter((e) => e.event === 'host');
    expect(hostEvents).toEqual([{ event: 'host', data: { type: 'changed', host: expect.objectContaining({ namespace: 'lab-b', name: 'db-01', state: 'Installing', phase: 'extract' }) } }]);
    expect(watchersBefore).toBe(1);
    // A closed stream stops watching.
    for (let i = 0; i < 200 && hosts.watchers > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(hosts.watchers).toBe(0);
  });

  it('tells about added and removed hosts', async () => {
    const res = await get('/api/events', 'admin-token');
    const reading = readEvents(res, (evs) => evs.filter((e) => e.event === 'host').length >= 2);
    while (hosts.watchers === 0) await new Promise((r) => setTimeout(r, 5));
    hosts.put(fakeHost('lab-c', 'new-01', { state: 'Pending' }));
    hosts.remove('lab-c', 'new-01');
    const types = (await reading).filter((e) => e.event === 'host').map((e) => (e.data as { type: string }).type);
    expect(types).toEqual(['added', 'removed']);
  });
});

describe('the app', () => {
  it('serves the page naming the hashed bundle, and the bundle as immutable', async () => {
    const page = await fetch(`${base}/`);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await page.text()).toContain('src="/dash/static/main-ABCD1234.js"');
    const script = await fetch(`${base}/static/main-ABCD1234.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${base}/static/nothing.js`)).status).toBe(404);
  });
});
