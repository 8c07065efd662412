// The behaviour every HistoryStore must have, as a jest suite run against the in-memory store and PGlite (unit
// tests) and real PostgreSQL (test/integration/history-store.test.ts). The jest functions are passed in, so this
// module has no runtime dependency on jest.
import type * as JestGlobals from '@jest/globals';
import type { HistoryStore, InstallStarted } from '../history-store.js';
import { HistoryQueryError } from '../store-util.js';
import type { InstallerEvent } from '../../install/installer-events.js';

export interface StoreFixture {
  store: HistoryStore;
  /** Empties every table. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

type Jest = Pick<typeof JestGlobals, 'describe' | 'it' | 'expect' | 'beforeAll' | 'afterAll' | 'beforeEach'>;

/** A deterministic UUID from a number: uuid(1) = 00000000-0000-4000-8000-000000000001. */
export const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
export const at = (seconds: number): Date => new Date(T0 + seconds * 1000);

export const started = (n: number, over: Partial<InstallStarted> = {}): InstallStarted => ({
  installationId: uuid(n),
  host: { namespace: 'default', name: 'node-01', uid: 'uid-1' },
  mac: '52:54:00:00:00:01',
  template: { name: 'ubuntu-24.04', contentHash: 'sha256:abc', generation: 3 },
  revision: 0,
  attempt: n,
  startedAt: at(n * 10_000),
  ...over,
});

const YEAR = 365 * 86_400;
const INSTALL = 'subiquity/Install/install';
const STEP = `${INSTALL}/curtin_install/run_curtin_step`;

/** A failure in curtin's partitioning stage as subiquity reports it (every curtin event at level DEBUG), from t seconds. */
export const partitioningFailure = (t: number): InstallerEvent[] => {
  const error = "Command ['python3', '-m', 'curtin', 'install'] returned non-zero exit status 3.";
  const debug = { origin: 'curtin', level: 'DEBUG' };
  return [
    ev(t, INSTALL, 'start', { level: 'DEBUG' }),
    ev(t + 10, STEP, 'start', { description: 'executing curtin install partitioning step', level: 'DEBUG' }),
    ev(t + 11, `${STEP}/cmd-install`, 'start', { description: 'curtin command install', ...debug }),
    ev(t + 12, `${STEP}/cmd-install/stage-partitioning`, 'start', { description: 'configuring storage', ...debug }),
    ev(t + 12, `${STEP}/cmd-install/stage-partitioning/builtin/cmd-block-meta`, 'start', { description: 'curtin command block-meta', ...debug }),
    ev(t + 13, `${STEP}/cmd-install/stage-partitioning`, 'finish', { result: 'FAIL', description: 'configuring storage', ...debug }),
    ev(t + 14, `${STEP}/cmd-install`, 'finish', { result: 'FAIL', description: 'curtin command install', ...debug }),
    ev(t + 15, STEP, 'finish', { result: 'FAIL', description: error, level: 'ERROR' }),
    ev(t + 16, INSTALL, 'finish', { result: 'FAIL', description: error, level: 'DEBUG' }),
    ev(t + 17, 'subiquity/Error/run/run/command_0', 'start', { description: 'journalctl -b > /tmp/j' }),
    ev(t + 18, 'subiquity/Error/run/run/command_0', 'finish', { result: 'SUCCESS', description: 'journalctl -b > /tmp/j' }),
  ];
};

export const ev = (i: number, name: string, event_type: string, extra: Partial<InstallerEvent> = {}): InstallerEvent => ({
  name,
  event_type,
  origin: 'subiquity',
  timestamp: T0 / 1000 + i,
  ...extra,
});

export function historyStoreConformance(j: Jest, name: string, open: () => Promise<StoreFixture>): void {
  const { describe, it, expect, beforeAll, afterAll, beforeEach } = j;
  describe(`HistoryStore conformance: ${name}`, () => {
    let fx: StoreFixture;
    let store: HistoryStore;
    beforeAll(async () => {
      fx = await open();
      store = fx.store;
    });
    afterAll(async () => {
      await fx?.close();
    });
    beforeEach(async () => {
      await fx.reset();
    });

    it('records a batch of install starts once each, in one call, dropping the ones that can never be stored', async () => {
      await store.recordInstallStarted(started(1));
      const result = await store.recordInstallsStarted([
        { ...started(1), attempt: 99 }, // known: kept as it was
        started(2),
        { ...started(2), attempt: 98 }, // twice in the batch: the first wins
        { ...started(3), installationId: 'not-a-uuid' },
        { ...started(4), startedAt: 'yesterday' },
        started(5, { host: { namespace: 'lab', name: 'n5', uid: 'u5' } }),
      ]);
      expect(result).toEqual({ inserted: 2, invalid: 2 });
      expect(await store.getInstallation(uuid(1))).toMatchObject({ attempt: 1 });
      expect(await store.getInstallation(uuid(2))).toMatchObject({ attempt: 2, host: { namespace: 'default', name: 'node-01' } });
      expect(await store.getInstallation(uuid(4))).toBeUndefined();
      expect(await store.getInstallation(uuid(5))).toMatchObject({ host: { namespace: 'lab', name: 'n5', uid: 'u5' } });
      expect(await store.recordInstallsStarted([])).toEqual({ inserted: 0, invalid: 0 });
    });

    it('records an install start once and the first finish only', async () => {
      await store.recordInstallStarted(started(1));
      await store.recordInstallStarted({ ...started(1), attempt: 99 });
      expect(await store.recordInstallFinished({ installationId: uuid(1), result: 'FAIL', finishedAt: at(10_000 + 125), reason: 'InstallerFailed', message: 'curthooks failed' })).toBe('updated');
      expect(await store.recordInstallFinished({ installationId: uuid(1), result: 'SUCCESS', finishedAt: at(10_000 + 999) })).toBe('already-finished');
      expect(await store.recordInstallFinished({ installationId: uuid(2), result: 'SUCCESS', finishedAt: at(1) })).toBe('not-found');
      const i = await store.getInstallation(uuid(1).toUpperCase());
      expect(i).toMatchObject({
        id: uuid(1),
        attempt: 1,
        result: 'FAIL',
        durationSeconds: 125,
        failureReason: 'InstallerFailed',
        failureMessage: 'curthooks failed',
        failureStage: null,
        host: { namespace: 'default', name: 'node-01', uid: 'uid-1' },
        template: { name: 'ubuntu-24.04', contentHash: 'sha256:abc', generation: 3 },
      });
      expect(i!.startedAt.toISOString()).toBe(at(10_000).toISOString());
      expect(await store.getInstallation('not-a-uuid')).toBeUndefined();
    });

    it('stores a repeated installer event once, within a batch and across batches', async () => {
      const events = [ev(0, 'subiquity/Install/install', 'start'), ev(1, 'subiquity/Install/install/partitioning', 'start'), ev(2, 'subiquity/Install/install/partitioning', 'finish', { result: 'SUCCESS' })];
      const input = events.map((event) => ({ installationId: uuid(1), event, receivedAt: at(100) }));
      expect(await store.recordInstallerEvents([...input, input[0]!, input[1]!])).toEqual({ inserted: 3, invalid: 0 });
      expect(await store.recordInstallerEvents(input)).toEqual({ inserted: 0, invalid: 0 });
      expect(await store.recordInstallerEvents([{ installationId: 'nope', event: events[0]!, receivedAt: at(1) }, { installationId: uuid(1), event: events[0]!, receivedAt: 'garbage' }])).toEqual({ inserted: 0, invalid: 2 });
      // The same event for another installation is a different event.
      expect(await store.recordInstallerEvents([{ installationId: uuid(2), event: events[0]!, receivedAt: at(100) }])).toEqual({ inserted: 1, invalid: 0 });
      const page = await store.listInstallerEvents(uuid(1));
      expect(page.items.map((e) => `${e.name} ${e.eventType}`)).toEqual(events.map((e) => `${e.name} ${e.event_type}`));
      expect(page.nextCursor).toBeUndefined();
      expect(page.items[2]).toMatchObject({ result: 'SUCCESS', origin: 'subiquity', raw: { name: 'subiquity/Install/install/partitioning', result: 'SUCCESS' } });
      expect(page.items[0]!.eventTime.toISOString()).toBe(at(0).toISOString());
    });

    it('concurrent writers of overlapping batches store each event exactly once', async () => {
      const all = Array.from({ length: 60 }, (_, i) => ({ installationId: uuid(7), event: ev(i, `step/${i}`, 'info'), receivedAt: at(i) }));
      const writers = Array.from({ length: 6 }, (_, w) => all.filter((_, i) => (i + w) % 2 === 0 || i % 5 === w % 5));
      const results = await Promise.all(writers.map((batch) => store.recordInstallerEvents(batch)));
      const inserted = results.reduce((n, r) => n + r.inserted, 0);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listInstallerEvents(uuid(7), { limit: 7, cursor });
        seen.push(...page.items.map((e) => e.name));
        cursor = page.nextCursor;
      } while (cursor);
      expect(inserted).toBe(60);
      expect(seen).toEqual(all.map((a) => a.event.name));
    });

    it('pages installer events in event-time order with ties broken stably', async () => {
      const same = Array.from({ length: 9 }, (_, i) => ({ installationId: uuid(3), event: ev(5, `tie/${i}`, 'info'), eventKey: `k${i}`, receivedAt: at(5) }));
      await store.recordInstallerEvents([...same, { installationId: uuid(3), event: ev(1, 'early', 'info'), receivedAt: at(50) }]);
      const names: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.listInstallerEvents(uuid(3), { limit: 4, cursor });
        names.push(...page.items.map((e) => e.name));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(names[0]).toBe('early');
      expect(new Set(names).size).toBe(10);
      await expect(store.listInstallerEvents(uuid(3), { cursor: 'bm90IGEgY3Vyc29y' })).rejects.toBeInstanceOf(HistoryQueryError);
      await expect(store.listInstallerEvents(uuid(3), { limit: 0 })).rejects.toBeInstanceOf(HistoryQueryError);
    });

    it('lists a host’s installations newest first, paginated', async () => {
      for (let n = 1; n <= 7; n++) await store.recordInstallStarted(started(n));
      await store.recordInstallStarted(started(8, { startedAt: at(70_000) })); // same startedAt as #7: id breaks the tie
      await store.recordInstallStarted(started(20, { host: { namespace: 'other', name: 'node-01', uid: 'x' } }));
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listInstallations({ namespace: 'default', name: 'node-01' }, { limit: 3, cursor });
        ids.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(ids).toEqual([8, 7, 6, 5, 4, 3, 2, 1].map(uuid));
      expect((await store.listInstallations({ namespace: 'default', name: 'nobody' })).items).toEqual([]);
    });

    it('lists recent failures since a time, optionally in one namespace', async () => {
      await store.recordInstallStarted(started(1));
      await store.recordInstallStarted(started(2));
      await store.recordInstallStarted(started(3, { host: { namespace: 'lab', name: 'n3', uid: 'u3' } }));
      await store.recordInstallStarted(started(4));
      await store.recordInstallFinished({ installationId: uuid(1), result: 'FAIL', finishedAt: at(10_100), receivedAt: at(10_100), reason: 'Timeout' });
      await store.recordInstallFinished({ installationId: uuid(2), result: 'FAIL', finishedAt: at(20_100), receivedAt: at(20_100), reason: 'InstallerFailed' });
      await store.recordInstallFinished({ installationId: uuid(3), result: 'FAIL', finishedAt: at(30_100), receivedAt: at(30_100), reason: 'InstallerFailed' });
      await store.recordInstallFinished({ installationId: uuid(4), result: 'SUCCESS', finishedAt: at(40_100), receivedAt: at(40_100) });
      expect((await store.listFailures({ since: at(15_000) })).items.map((i) => i.id)).toEqual([uuid(3), uuid(2)]);
      expect((await store.listFailures({ since: at(0), namespace: 'default' })).items.map((i) => i.id)).toEqual([uuid(2), uuid(1)]);
      const first = await store.listFailures({ since: at(0) }, { limit: 2 });
      expect(first.items.map((i) => i.id)).toEqual([uuid(3), uuid(2)]);
      expect((await store.listFailures({ since: at(0) }, { limit: 2, cursor: first.nextCursor })).items.map((i) => i.id)).toEqual([uuid(1)]);
    });

    it('lists failures by when the server received them, whatever the installer’s clock said', async () => {
      await store.recordInstallStarted(started(1));
      // The machine's clock is a year behind: by it, the install failed long before the server saw it start.
      await store.recordInstallerEvents(partitioningFailure(-YEAR).map((event) => ({ installationId: uuid(1), event, receivedAt: at(10_300) })));
      await store.recordInstallFinished({ installationId: uuid(1), result: 'FAIL', finishedAt: at(-YEAR + 16), receivedAt: at(10_600), reason: 'InstallerFailed' });
      const page = await store.listFailures({ since: at(10_000) });
      expect(page.items.map((i) => [i.id, i.failureStage, i.durationSeconds])).toEqual([[uuid(1), 'partitioning', 16]]);
      expect(page.items[0]!.finishedAt!.toISOString()).toBe(at(-YEAR + 16).toISOString());
      expect(page.items[0]!.finishReceivedAt!.toISOString()).toBe(at(10_600).toISOString());
      expect((await store.listFailures({ since: at(10_601) })).items).toEqual([]);
    });

    it('measures an install’s duration on the installer’s clock at both ends', async () => {
      // The server saw it start at at(10_000); the installer's clock is a year behind. By that clock its earliest
      // event (not the first received) is at +40 s and its result at +760 s.
      await store.recordInstallStarted(started(1));
      await store.recordInstallerEvents(
        [ev(-YEAR + 100, INSTALL, 'start'), ev(-YEAR + 40, 'subiquity/Early/run', 'start'), ev(-YEAR + 700, INSTALL, 'finish', { result: 'SUCCESS' })].map((event) => ({
          installationId: uuid(1),
          event,
          receivedAt: at(10_050),
        })),
      );
      expect(await store.recordInstallFinished({ installationId: uuid(1), result: 'SUCCESS', finishedAt: at(-YEAR + 760), receivedAt: at(10_800), reason: 'Succeeded' })).toBe('updated');
      expect(await store.getInstallation(uuid(1))).toMatchObject({ result: 'SUCCESS', durationSeconds: 720, failureStage: null, failureMessage: null });
      // A result by another clock than the events' (the operator's timeout, with the installer's clock ahead) is
      // measured from the server's start instead.
      await store.recordInstallStarted(started(2));
      await store.recordInstallerEvents([{ installationId: uuid(2), event: ev(30_000, INSTALL, 'start'), receivedAt: at(20_010) }]);
      await store.recordInstallFinished({ installationId: uuid(2), result: 'FAIL', finishedAt: at(27_200), reason: 'Timeout', message: 'no result within 2h' });
      expect(await store.getInstallation(uuid(2))).toMatchObject({ durationSeconds: 7200, failureMessage: 'no result within 2h', failureStage: null });
    });

    it('derives the failed stage and reason of a FAIL from the deepest stored FAIL, unless given', async () => {
      const events = partitioningFailure(0);
      for (const n of [1, 2, 3]) {
        await store.recordInstallStarted(started(n));
        await store.recordInstallerEvents(events.map((event) => ({ installationId: uuid(n), event, receivedAt: at(n * 10_000 + 50) })));
      }
      await store.recordInstallFinished({ installationId: uuid(1), result: 'FAIL', finishedAt: at(16), reason: 'InstallerFailed' });
      expect(await store.getInstallation(uuid(1))).toMatchObject({ failureReason: 'InstallerFailed', failureStage: 'partitioning', failureMessage: 'configuring storage' });
      await store.recordInstallFinished({ installationId: uuid(2), result: 'FAIL', finishedAt: at(16), reason: 'InstallerFailed', message: 'given', failedStage: 'curthooks' });
      expect(await store.getInstallation(uuid(2))).toMatchObject({ failureStage: 'curthooks', failureMessage: 'given' });
      await store.recordInstallFinished({ installationId: uuid(3), result: 'FAIL', finishedAt: at(16), reason: 'InstallerFailed', message: 'given' });
      expect(await store.getInstallation(uuid(3))).toMatchObject({ failureStage: 'partitioning', failureMessage: 'given' });

      // Without curtin's events, the stage comes from the run_curtin_step's description (a start, not a FAIL).
      await store.recordInstallStarted(started(4));
      const noise = Array.from({ length: 30 }, (_, i) => ev(i, `${STEP}/cmd-install/noise-${i}`, i % 2 ? 'finish' : 'start', i % 2 ? { result: 'SUCCESS' } : {}));
      await store.recordInstallerEvents(
        [ev(0, STEP, 'start', { description: 'executing curtin install extract step' }), ...noise, ev(40, STEP, 'finish', { result: 'FAIL', description: 'exit status 1', level: 'ERROR' })].map((event) => ({
          installationId: uuid(4),
          event,
          receivedAt: at(40_100),
        })),
      );
      await store.recordInstallFinished({ installationId: uuid(4), result: 'FAIL', finishedAt: at(41), reason: 'InstallerFailed' });
      expect(await store.getInstallation(uuid(4))).toMatchObject({ failureStage: 'extract', failureMessage: 'exit status 1' });
    });

    it('computes success rate and p50/p95 durations per template over a window', async () => {
      // ubuntu: successful installs of 100..1000 s, two failures, one cancelled; debian: one success; one outside.
      let n = 1;
      for (let k = 1; k <= 10; k++, n++) {
        await store.recordInstallStarted(started(n));
        await store.recordInstallFinished({ installationId: uuid(n), result: 'SUCCESS', finishedAt: new Date(at(n * 10_000).getTime() + k * 100_000) });
      }
      for (const result of ['FAIL', 'FAIL', 'CANCELLED'] as const) {
        await store.recordInstallStarted(started(n));
        await store.recordInstallFinished({ installationId: uuid(n), result, finishedAt: at(n * 10_000 + 50) });
        n++;
      }
      await store.recordInstallStarted(started(n, { template: { name: 'debian-12' } }));
      await store.recordInstallFinished({ installationId: uuid(n), result: 'SUCCESS', finishedAt: at(n * 10_000 + 600) });
      n++;
      await store.recordInstallStarted(started(n, { startedAt: at(-100_000) }));
      await store.recordInstallFinished({ installationId: uuid(n), result: 'FAIL', finishedAt: at(-99_000) });
      await store.recordInstallStarted(started(n + 1)); // unfinished: not counted

      const stats = await store.installStats({ since: at(0), until: at(10_000_000) });
      const ubuntu = stats.templates.find((t) => t.template === 'ubuntu-24.04')!;
      expect(ubuntu).toMatchObject({ total: 13, succeeded: 10, failed: 2, cancelled: 1 });
      expect(ubuntu.successRate).toBeCloseTo(10 / 12, 10);
      expect(ubuntu.p50DurationSeconds).toBeCloseTo(550, 6);
      expect(ubuntu.p95DurationSeconds).toBeCloseTo(955, 6);
      expect(stats.templates.map((t) => t.template)).toEqual(['debian-12', 'ubuntu-24.04']);
      expect(stats.templates[0]).toMatchObject({ total: 1, succeeded: 1, successRate: 1, p50DurationSeconds: 600, p95DurationSeconds: 600 });
      expect(stats.overall).toMatchObject({ total: 14, succeeded: 11, failed: 2, cancelled: 1 });
      const empty = await store.installStats({ since: at(20_000_000), until: at(30_000_000) });
      expect(empty.overall).toEqual({ total: 0, succeeded: 0, failed: 0, cancelled: 0, successRate: null, p50DurationSeconds: null, p95DurationSeconds: null });
      expect(empty.templates).toEqual([]);
    });

    it('stores a re-shipped boot request once and lists them by MAC', async () => {
      const req = { time: at(10), mac: '52:54:00:AA:00:01', clientIp: '10.0.0.5', path: '/boot.ipxe', served: 'InstallScript', host: { namespace: 'default', name: 'node-01' }, installationId: uuid(1) };
      expect(await store.recordBootRequests([req, req, { ...req, time: at(11), path: '/hosts/x/script.ipxe' }])).toEqual({ inserted: 2, invalid: 0 });
      expect(await store.recordBootRequests([req, { ...req, time: 'never' }])).toEqual({ inserted: 0, invalid: 1 });
      const page = await store.listBootRequests('52-54-00-aa-00-01', { limit: 1 });
      expect(page.items).toHaveLength(1);
      expect(page.items[0]).toMatchObject({ mac: '52:54:00:aa:00:01', path: '/hosts/x/script.ipxe', host: { namespace: 'default', name: 'node-01' }, installationId: uuid(1) });
      const rest = await store.listBootRequests('52:54:00:aa:00:01', { cursor: page.nextCursor });
      expect(rest.items.map((r) => r.path)).toEqual(['/boot.ipxe']);
    });

    it('upserts discovered machines by MAC', async () => {
      await store.recordDiscovered([{ mac: '52:54:00:00:00:09', seenAt: at(100), ip: '10.0.0.9', arch: 'x86_64', platform: 'pcbios' }]);
      await store.recordDiscovered([
        { mac: '52:54:00:00:00:09', seenAt: at(50), ip: '10.0.0.8', arch: 'old' },
        { mac: '52:54:00:00:00:09', seenAt: at(200), ip: '10.0.0.10', platform: 'efi' },
        { mac: '52:54:00:00:00:0a', seenAt: at(150) },
      ]);
      const page = await store.listDiscovered();
      expect(page.items.map((m) => m.mac)).toEqual(['52:54:00:00:00:09', '52:54:00:00:00:0a']);
      const m = page.items[0]!;
      expect([m.firstSeen.toISOString(), m.lastSeen.toISOString()]).toEqual([at(50).toISOString(), at(200).toISOString()]);
      expect(m).toMatchObject({ lastIp: '10.0.0.10', arch: 'x86_64', platform: 'efi' });
      // Every sighting counts, the one older than the stored last one too.
      expect(m.seenCount).toBe(3);
    });

    it('keeps one row per MAC however often it is seen, counts each sighting once, and updates its facts in place', async () => {
      const mac = (i: number) => `52:54:00:00:01:${i.toString(16).padStart(2, '0')}`;
      // 5,000 sightings of 5 machines, in one call and in repeated calls.
      const sightings = Array.from({ length: 5000 }, (_, i) => ({ mac: mac(i % 5), seenAt: at(1000 + i), ip: `10.0.1.${i % 5}`, arch: i < 4995 ? 'i386' : 'x86_64' }));
      await store.recordDiscovered(sightings.slice(0, 2000));
      await store.recordDiscovered(sightings.slice(2000));
      let page = await store.listDiscovered({ limit: 100 });
      expect(page.items).toHaveLength(5);
      expect(page.items.map((m) => m.seenCount)).toEqual([1000, 1000, 1000, 1000, 1000]);
      const latest = page.items[0]!;
      expect(latest).toMatchObject({ mac: mac(4), lastIp: '10.0.1.4', arch: 'x86_64' });
      expect([latest.firstSeen.toISOString(), latest.lastSeen.toISOString()]).toEqual([at(1004).toISOString(), at(5999).toISOString()]);
      // Sightings in the same millisecond and out of order (concurrent requests) are each counted; sightings without
      // a MAC or a time are dropped; the facts follow the latest sighting, whatever the order of the calls.
      await store.recordDiscovered([
        { mac: mac(4).toUpperCase().replace(/:/g, '-'), seenAt: at(6000), platform: 'efi' },
        { mac: mac(4), seenAt: at(6000) },
        { mac: mac(4), seenAt: at(5500), arch: 'old', ip: '10.9.9.9' },
        { mac: '', seenAt: at(6001) },
        { mac: mac(9), seenAt: 'never' },
      ]);
      page = await store.listDiscovered({ limit: 100 });
      expect(page.items).toHaveLength(5);
      expect(page.items[0]).toMatchObject({ mac: mac(4), seenCount: 1003, arch: 'x86_64', platform: 'efi', lastIp: '10.0.1.4' });
      expect(page.items[0]!.lastSeen.toISOString()).toBe(at(6000).toISOString());
    });

    it('records template builds', async () => {
      const tpl = { namespace: 'default', name: 'ubuntu-noble' };
      await store.recordTemplateBuildStarted({ id: uuid(1), template: tpl, version: '1.0.0', node: 'pve1', startedAt: at(0) });
      await store.recordTemplateBuildStarted({ id: uuid(2), template: tpl, version: '1.1.0', node: 'pve1', startedAt: at(100) });
      expect(await store.recordTemplateBuildFinished({ id: uuid(1), result: 'SUCCESS', finishedAt: at(60), vmid: 9000, checksum: 'sha256:x', taskUpid: 'UPID:pve1:1' })).toBe('updated');
      expect(await store.recordTemplateBuildFinished({ id: uuid(1), result: 'FAIL', finishedAt: at(70) })).toBe('already-finished');
      const builds = await store.listTemplateBuilds(tpl);
      expect(builds.items.map((b) => b.version)).toEqual(['1.1.0', '1.0.0']);
      expect(builds.items[1]).toMatchObject({ result: 'SUCCESS', vmid: 9000, checksum: 'sha256:x', taskUpid: 'UPID:pve1:1', node: 'pve1' });
    });

    it('prunes old events and boot requests but keeps installation summaries', async () => {
      await store.recordInstallStarted(started(1));
      await store.recordInstallFinished({ installationId: uuid(1), result: 'SUCCESS', finishedAt: at(10_500) });
      await store.recordInstallerEvents([
        { installationId: uuid(1), event: ev(1, 'old', 'info'), receivedAt: at(1) },
        { installationId: uuid(1), event: ev(2, 'new', 'info'), receivedAt: at(1000) },
      ]);
      await store.recordBootRequests([
        { time: at(1), mac: 'm', clientIp: 'i', path: '/old', served: 's' },
        { time: at(1000), mac: 'm', clientIp: 'i', path: '/new', served: 's' },
      ]);
      expect(await store.prune(at(500))).toEqual({ installerEvents: 1, bootRequests: 1 });
      expect((await store.listInstallerEvents(uuid(1))).items.map((e) => e.name)).toEqual(['new']);
      expect((await store.listBootRequests('m')).items.map((r) => r.path)).toEqual(['/new']);
      expect(await store.getInstallation(uuid(1))).toMatchObject({ result: 'SUCCESS', durationSeconds: 500 });
      expect(await store.prune(at(500))).toEqual({ installerEvents: 0, bootRequests: 0 });
    });

    it('keeps text with NUL characters storable', async () => {
      const r = await store.recordInstallerEvents([{ installationId: uuid(1), event: ev(1, 'x\u0000y', 'info', { description: 'a\u0000b' }), receivedAt: at(1) }]);
      expect(r.inserted).toBe(1);
      expect((await store.listInstallerEvents(uuid(1))).items[0]).toMatchObject({ name: 'xy', description: 'ab' });
    });
  });
}
