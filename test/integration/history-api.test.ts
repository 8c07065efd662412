// The history REST API and `anvil history` against a real PostgreSQL: pagination through `next` links, installation
// detail with phases, failures, stats, clear 400s, the OpenAPI document; the CLI from the API, the database and an
// embedded data directory.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import type { HistoryStore } from '@anvil/core/db';
import { openHistoryStore } from '@anvil/core/db';
import { at, ev, partitioningFailure, started, uuid } from '@anvil/core/src/db/testing/conformance.js';
import { historyRouter } from '@anvil/core/history-api';
import { openApiDocument } from '@anvil/core/history-api';
import { ROOT } from '../harness/processes.js';
import { startPostgres, type RunningPostgres } from '../harness/postgres.js';

let pg: RunningPostgres;
let databaseUrl: string;
let store: HistoryStore;
let server: Server;
let base: string;
const NOW = at(1_000_000); // the API's clock, injected: nothing here depends on the wall clock

const YEAR = 365 * 86_400;
const STEP = 'subiquity/Install/install/curtin_install/run_curtin_step';

/**
 * Three installs of default/node-01 (FAIL, CANCELLED, SUCCESS), a timeout in lab, a partitioning failure reported by
 * a machine whose clock is a year behind, and a subiquity install still running (curtin's partitioning step done).
 */
async function seed(s: HistoryStore): Promise<void> {
  await s.recordInstallStarted(started(1, { startedAt: at(900_000) }));
  await s.recordInstallerEvents(
    [
      ev(900_000, 'subiquity/Install/install', 'start'),
      ev(900_010, 'subiquity/Install/install/partitioning', 'start'),
      ev(900_040, 'subiquity/Install/install/partitioning', 'finish', { result: 'SUCCESS' }),
      ev(900_041, 'subiquity/Install/install/curthooks', 'start'),
      ev(900_300, 'subiquity/Install/install/curthooks', 'finish', { result: 'FAIL', description: 'curtin command curthooks failed' }),
    ].map((event) => ({ installationId: uuid(1), event, receivedAt: at(900_400) })),
  );
  await s.recordInstallFinished({ installationId: uuid(1), result: 'FAIL', finishedAt: at(900_301), receivedAt: at(900_301), reason: 'InstallerFailed', message: 'curtin command curthooks failed' });
  await s.recordInstallStarted(started(2, { startedAt: at(920_000) }));
  await s.recordInstallFinished({ installationId: uuid(2), result: 'CANCELLED', finishedAt: at(920_050), receivedAt: at(920_050), reason: 'Superseded' });
  await s.recordInstallStarted(started(3, { startedAt: at(950_000), revision: 1 }));
  const ok = [
    ev(950_000, 'subiquity/Early/run', 'start'),
    ev(950_002, 'subiquity/Early/run', 'finish', { result: 'SUCCESS' }),
    ev(950_005, 'subiquity/Install/install', 'start'),
    ev(950_010, 'subiquity/Install/install/partitioning', 'start'),
    ev(950_040, 'subiquity/Install/install/partitioning', 'finish', { result: 'SUCCESS' }),
    ev(950_040, 'subiquity/Install/install/extract', 'start'),
    ev(950_340, 'subiquity/Install/install/extract', 'finish', { result: 'SUCCESS' }),
    ev(950_725, 'subiquity/Install/install', 'finish', { result: 'SUCCESS' }),
  ];
  await s.recordInstallerEvents(ok.map((event) => ({ installationId: uuid(3), event, receivedAt: at(950_800) })));
  await s.recordInstallFinished({ installationId: uuid(3), result: 'SUCCESS', finishedAt: at(950_725), receivedAt: at(950_725), reason: 'Succeeded' });
  await s.recordInstallStarted(started(9, { host: { namespace: 'lab', name: 'node-09', uid: 'u9' }, template: { name: 'debian-12' }, startedAt: at(960_000) }));
  await s.recordInstallFinished({ installationId: uuid(9), result: 'FAIL', finishedAt: at(960_100), receivedAt: at(960_100), reason: 'Timeout' });

  await s.recordInstallStarted(started(11, { host: { namespace: 'lab', name: 'node-11', uid: 'u11' }, startedAt: at(990_000) }));
  await s.recordInstallerEvents(partitioningFailure(-YEAR).map((event) => ({ installationId: uuid(11), event, receivedAt: at(990_010) })));
  await s.recordInstallFinished({ installationId: uuid(11), result: 'FAIL', finishedAt: at(-YEAR + 16), receivedAt: at(990_020), reason: 'InstallerFailed' });

  await s.recordInstallStarted(started(12, { host: { namespace: 'lab', name: 'node-12', uid: 'u12' }, startedAt: at(995_000) }));
  const running = [
    ev(995_000, 'subiquity/load_autoinstall_config', 'finish', { result: 'SUCCESS' }),
    ev(995_001, 'subiquity/Install/install', 'start'),
    ev(995_010, 'subiquity/Mirror/cmd-apt-config', 'start', { origin: 'curtin', level: 'DEBUG' }),
    ev(995_012, 'subiquity/Mirror/cmd-apt-config', 'finish', { result: 'SUCCESS', origin: 'curtin', level: 'DEBUG' }),
    ev(995_100, 'subiquity/Install/install/curtin_install', 'start', { description: 'installing system' }),
    ev(995_101, STEP, 'start', { description: 'executing curtin install initial step' }),
    ev(995_102, `${STEP}/cmd-install`, 'start', { description: 'curtin command install', origin: 'curtin', level: 'DEBUG' }),
    ev(995_103, `${STEP}/cmd-install`, 'finish', { result: 'SUCCESS', description: 'curtin command install', origin: 'curtin', level: 'DEBUG' }),
    ev(995_104, STEP, 'finish', { result: 'SUCCESS', description: 'executing curtin install initial step' }),
    ev(995_110, STEP, 'start', { description: 'executing curtin install partitioning step' }),
    ev(995_111, `${STEP}/cmd-install/`, 'start', { description: 'curtin command install', origin: 'curtin', level: 'DEBUG' }),
    ev(995_112, `${STEP}/cmd-install/stage-partitioning/builtin/cmd-block-meta`, 'start', { description: 'curtin command block-meta', origin: 'curtin', level: 'DEBUG' }),
    ev(995_140, `${STEP}/cmd-install/`, 'finish', { result: 'SUCCESS', description: 'curtin command install', origin: 'curtin', level: 'DEBUG' }),
    ev(995_141, STEP, 'finish', { result: 'SUCCESS', description: 'executing curtin install partitioning step' }),
  ];
  await s.recordInstallerEvents(running.map((event, i) => ({ installationId: uuid(12), event, receivedAt: new Date(at(995_200).getTime() + i) })));
}

beforeAll(async () => {
  pg = await startPostgres();
  databaseUrl = await pg.createDatabase('history_api');
  store = await openHistoryStore({ databaseUrl, dataDir: '' });
  await seed(store);
  const app = express();
  app.use(historyRouter(store, { now: () => NOW }));
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await store?.close();
  await pg?.stop();
});

const get = async (path: string) => {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

describe('history API', () => {
  it('pages a host’s installations newest first through next links', async () => {
    const ids: string[] = [];
    let path: string | null = '/api/v1/hosts/default/node-01/installations?limit=2';
    let pages = 0;
    while (path) {
      const { status, body } = await get(path);
      expect(status).toBe(200);
      ids.push(...body.items.map((i: { id: string }) => i.id));
      path = body.next;
      pages++;
    }
    expect(pages).toBe(2);
    expect(ids).toEqual([uuid(3), uuid(2), uuid(1)]);
    const { body } = await get('/api/v1/hosts/default/node-01/installations');
    expect(body.items[0]).toMatchObject({ id: uuid(3), attempt: 3, revision: 1, result: 'SUCCESS', durationSeconds: 725, host: { namespace: 'default', name: 'node-01' }, template: { name: 'ubuntu-24.04' } });
    expect(body.next).toBeNull();
  });

  it('returns one installation with its phases and events, and pages its events', async () => {
    const { status, body } = await get(`/api/v1/installations/${uuid(3)}?limit=3`);
    expect(status).toBe(200);
    expect(body.installation).toMatchObject({ id: uuid(3), result: 'SUCCESS' });
    expect(body.phases.map((p: { name: string; depth: number; durationSeconds: number }) => [p.name, p.depth, p.durationSeconds])).toEqual([
      ['subiquity/Early/run', 0, 2],
      ['subiquity/Install/install', 0, 720],
      ['subiquity/Install/install/partitioning', 1, 30],
      ['subiquity/Install/install/extract', 1, 300],
    ]);
    expect(body.events).toHaveLength(3);
    const names = body.events.map((e: { name: string }) => e.name);
    let next: string | null = body.eventsNext;
    while (next) {
      const page = await get(next);
      names.push(...page.body.items.map((e: { name: string }) => e.name));
      next = page.body.next;
    }
    expect(names).toHaveLength(8);
    expect((await get(`/api/v1/installations/${uuid(77)}`)).status).toBe(404);
    expect((await get(`/api/v1/installations/${uuid(77)}/events`)).status).toBe(404);
  });

  it('lists failures with their stage and reason by when the server received them, since a time or a duration, optionally by namespace', async () => {
    const all = await get('/api/v1/failures?since=7d');
    // uuid(11)'s installer clock is a year behind: it is listed by the server's clock, with its installer-clock duration.
    expect(all.body.items.map((i: Record<string, unknown>) => [i.id, i.failureReason, i.failureStage, i.failureMessage, i.durationSeconds])).toEqual([
      [uuid(11), 'InstallerFailed', 'partitioning', 'configuring storage', 16],
      [uuid(9), 'Timeout', null, null, 100],
      [uuid(1), 'InstallerFailed', 'curthooks', 'curtin command curthooks failed', 301],
    ]);
    expect(all.body.items[0]).toMatchObject({ finishedAt: at(-YEAR + 16).toISOString(), finishReceivedAt: at(990_020).toISOString() });
    const lab = await get('/api/v1/failures?since=7d&namespace=lab');
    expect(lab.body.items.map((i: { id: string; failureReason: string }) => [i.id, i.failureReason])).toEqual([
      [uuid(11), 'InstallerFailed'],
      [uuid(9), 'Timeout'],
    ]);
    const since = await get(`/api/v1/failures?since=${encodeURIComponent(at(950_000).toISOString())}`);
    expect(since.body.items.map((i: { id: string }) => i.id)).toEqual([uuid(11), uuid(9)]);
    const paged = await get('/api/v1/failures?limit=2');
    expect(paged.body.items).toHaveLength(2);
    expect((await get(paged.body.next)).body.items.map((i: { id: string }) => i.id)).toEqual([uuid(1)]);
  });

  it('nests a subiquity install’s phases by name, labels run_curtin_step by its step and closes curtin starts that never finish', async () => {
    const { status, body } = await get(`/api/v1/installations/${uuid(12)}`);
    expect(status).toBe(200);
    const phases = body.phases as { name: string; label: string; parent: number | null; depth: number; result: string | null; closedBy: string | null; startedAt: string | null }[];
    expect(phases.map((p) => [p.label, p.depth, p.parent === null ? null : phases[p.parent]!.label, p.result])).toEqual([
      ['subiquity/load_autoinstall_config', 0, null, 'SUCCESS'],
      ['subiquity/Install/install', 0, null, null],
      ['curtin_install', 1, 'subiquity/Install/install', null],
      ['run_curtin_step (initial)', 2, 'curtin_install', 'SUCCESS'],
      ['cmd-install', 3, 'run_curtin_step (initial)', 'SUCCESS'],
      ['run_curtin_step (partitioning)', 2, 'curtin_install', 'SUCCESS'],
      ['cmd-install', 3, 'run_curtin_step (partitioning)', 'SUCCESS'],
      ['stage-partitioning/builtin/cmd-block-meta', 4, 'cmd-install', null],
      ['subiquity/Mirror/cmd-apt-config', 0, null, 'SUCCESS'],
    ]);
    expect(phases[0]!.startedAt).toBeNull();
    expect(phases[7]).toMatchObject({ closedBy: `${STEP}/cmd-install`, durationSeconds: 28 });
  });

  it('gives success rate and duration percentiles per template', async () => {
    const { status, body } = await get('/api/v1/stats?window=7d');
    expect(status).toBe(200);
    expect(body.window).toBe('7d');
    expect(body.until).toBe(NOW.toISOString());
    // uuid(11) finished a year ago by its own clock: the stats window goes by finishedAt.
    expect(body.overall).toMatchObject({ total: 4, succeeded: 1, failed: 2, cancelled: 1 });
    expect(body.templates).toEqual([
      { template: 'debian-12', total: 1, succeeded: 0, failed: 1, cancelled: 0, successRate: 0, p50DurationSeconds: null, p95DurationSeconds: null },
      { template: 'ubuntu-24.04', total: 3, succeeded: 1, failed: 1, cancelled: 1, successRate: 0.5, p50DurationSeconds: 725, p95DurationSeconds: 725 },
    ]);
    expect((await get('/api/v1/stats?window=1h')).body.overall.total).toBe(0);
  });

  it('answers bad parameters with 400 and a message that says what is wrong', async () => {
    const cases: [string, RegExp][] = [
      ['/api/v1/hosts/default/node-01/installations?limit=0', /limit must be an integer from 1 to 1000/],
      ['/api/v1/hosts/default/node-01/installations?limit=ten', /limit must be an integer/],
      ['/api/v1/hosts/default/node-01/installations?cursor=garbage', /cursor is not valid/],
      ['/api/v1/hosts/default/node-01/installations?limt=5', /unknown query parameter "limt"/],
      ['/api/v1/hosts/default/node-01/installations?limit=1&limit=2', /must be given once/],
      ['/api/v1/hosts/Default_NS/node-01/installations', /not a valid Kubernetes name/],
      ['/api/v1/installations/not-a-uuid', /must be a UUID/],
      ['/api/v1/failures?since=yesterday', /since must be an RFC 3339 time/],
      ['/api/v1/stats?window=7x', /window must be a duration/],
      ['/api/v1/stats?window=400d', /at most 366d/],
    ];
    for (const [path, message] of cases) {
      const { status, body } = await get(path);
      expect([path, status, body.error]).toEqual([path, 400, 'BadRequest']);
      expect(body.message).toMatch(message);
    }
    const missing = await get('/api/v1/nothing');
    expect([missing.status, missing.body.error]).toEqual([404, 'NotFound']);
  });

  it('serves an OpenAPI 3 document describing every route, with every reference resolvable', async () => {
    const { status, body } = await get('/api/v1/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toMatch(/^3\./);
    expect(Object.keys(body.paths).sort()).toEqual(
      ['/api/v1/failures', '/api/v1/hosts/{namespace}/{name}/installations', '/api/v1/installations/{id}', '/api/v1/installations/{id}/events', '/api/v1/openapi.json', '/api/v1/stats', '/api/v1/templates/{namespace}/{name}/rollout-decisions'].sort(),
    );
    const refs = JSON.stringify(openApiDocument).match(/#\/components\/schemas\/\w+/g) ?? [];
    for (const r of refs) expect(body.components.schemas[r.split('/').pop()!]).toBeDefined();
    // Every documented path answers (with its example parameters filled in).
    for (const p of Object.keys(body.paths)) {
      const path = p.replace('{namespace}', 'default').replace('{name}', 'node-01').replace('{id}', uuid(3));
      expect([p, (await get(path)).status]).toEqual([p, 200]);
    }
  });
});

// Each CLI run starts a Node process that compiles the CLI with tsx (tens of seconds on a loaded machine).
const CLI_TIMEOUT_MS = 240_000;

describe('anvil history', () => {
  const run = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(join(ROOT, 'node_modules/.bin/node'), ['--conditions=anvil-source', '--import', join(ROOT, 'node_modules/tsx/dist/esm/index.mjs'), join(ROOT, 'cli/src/main.ts'), 'history', ...args], {
      env: { ...process.env, KUBECONFIG: '/nonexistent/kubeconfig' },
      timeout: 180_000,
    });
    return stdout;
  };

  it('prints the timeline from the API and from the database identically, without a kubeconfig', async () => {
    const fromApi = await run('node-01', '-n', 'default', '--api', base);
    const fromDb = await run('node-01', '--namespace', 'default', '--database-url', databaseUrl);
    expect(fromDb).toBe(fromApi);
    const lines = fromApi.split('\n');
    expect(lines[0]).toBe('BareMetalHost default/node-01: 3 installations (oldest first)');
    const heads = lines.filter((l) => l.startsWith('attempt '));
    expect(heads).toEqual([
      `attempt 1  revision 0  started ${at(900_000).toISOString().replace('.000Z', 'Z')}  duration 5m01s  FAIL (curthooks)  InstallerFailed: curtin command curthooks failed`,
      `attempt 2  revision 0  started ${at(920_000).toISOString().replace('.000Z', 'Z')}  duration 50s  CANCELLED  Superseded`,
      `attempt 3  revision 1  started ${at(950_000).toISOString().replace('.000Z', 'Z')}  duration 12m05s  SUCCESS  Succeeded`,
    ]);
    const phase = (name: string) => lines.filter((l) => l.trim().startsWith(`${name} `)).map((l) => l.trim().split(/\s+/).slice(1).join(' '));
    expect(phase('curthooks')).toEqual(['4m19s FAIL']);
    expect(phase('extract')).toEqual(['5m00s SUCCESS']);
    expect(phase('subiquity/Install/install')).toEqual(['- unfinished', '12m00s SUCCESS']); // attempt 1 never sent the outer finish
    expect(fromApi).toMatch(/^ {6}partitioning +30s {2}SUCCESS$/m);
  }, CLI_TIMEOUT_MS);

  it('prints a running subiquity install nested by name, with labelled curtin steps and closed phases', async () => {
    const out = await run('node-12', '-n', 'lab', '--api', base, '--depth', '5');
    expect(await run('node-12', '-n', 'lab', '--database-url', databaseUrl, '--depth', '5')).toBe(out);
    const phaseLines = out.split('\n').filter((l) => /^ {4}/.test(l));
    expect(phaseLines.map((l) => [l.search(/\S/), ...l.trim().split(/\s{2,}/)])).toEqual([
      [4, 'subiquity/load_autoinstall_config', '-', 'SUCCESS'],
      [4, 'subiquity/Install/install', '-', 'running'],
      [6, 'curtin_install', '-', 'running'],
      [8, 'run_curtin_step (initial)', '3s', 'SUCCESS'],
      [10, 'cmd-install', '1s', 'SUCCESS'],
      [8, 'run_curtin_step (partitioning)', '31s', 'SUCCESS'],
      [10, 'cmd-install', '29s', 'SUCCESS'],
      [12, 'stage-partitioning/builtin/cmd-block-meta', '28s', 'closed'],
      [4, 'subiquity/Mirror/cmd-apt-config', '2s', 'SUCCESS'],
    ]);
  }, CLI_TIMEOUT_MS);

  it('reads an embedded (PGlite) data directory, and limits what it shows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anvil-history-cli-'));
    try {
      const embedded = await openHistoryStore({ dataDir: dir });
      await seed(embedded);
      await embedded.close();
      const out = await run('node-01', '--data-dir', dir, '--limit', '1', '--depth', '0');
      expect(out.split('\n').filter((l) => l.startsWith('attempt ')).map((l) => l.slice(0, 9))).toEqual(['attempt 3']);
      expect(out).not.toMatch(/partitioning/);
      expect(await run('nobody', '--data-dir', dir)).toBe('BareMetalHost default/nobody: no installations recorded\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, CLI_TIMEOUT_MS);

  it('needs exactly one source', async () => {
    await expect(run('node-01')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/exactly one of --api URL, --database-url URL, --data-dir DIR/) });
  }, CLI_TIMEOUT_MS);
});
