// Conformance cases for installations: starts, finishes (durations, derived failures), lists by host and of failures,
// and statistics.
import type { HistoryStore } from '../history-store.js';
import { at, ev, INSTALL, partitioningFailure, started, STEP, uuid, YEAR, type Jest } from './fixtures.js';

/** Registers the installation cases in the enclosing describe; `current` is the store under test. */
export function installationCases(j: Jest, current: () => HistoryStore): void {
  const { it, expect, beforeEach } = j;
  let store: HistoryStore;
  beforeEach(() => {
    store = current();
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
}
