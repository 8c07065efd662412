import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@anvil/core/logging';
import { Quarantine } from './quarantine.js';
import { restUntil, Shipper, type Sink, type SinkBatching } from './shipper.js';
import { Spool } from './spool.js';

type Rec = { n: number };

/** A sink that stores idempotently (by n), counts what it was given, and can be held or made to fail. */
class TestSink implements Sink<Rec> {
  /** Every instance, to release held ones after a failed test. */
  static readonly all: TestSink[] = [];
  readonly stored = new Set<number>();
  readonly batches: number[][] = [];
  received = 0;
  down = false;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  constructor(
    readonly name: string,
    readonly batching?: SinkBatching,
  ) {
    TestSink.all.push(this);
  }

  /** The next batches wait until release(). */
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  async ship(records: Rec[]): Promise<void> {
    if (this.gate) await this.gate;
    if (this.down) throw new Error(`${this.name} unavailable`);
    this.batches.push(records.map((r) => r.n));
    this.received += records.length;
    for (const r of records) this.stored.add(r.n);
  }
}

const range = (from: number, to: number): Rec[] => Array.from({ length: to - from }, (_, i) => ({ n: from + i }));
const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);

async function waitFor(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Shipper: every sink at its own pace', () => {
  let dir: string;
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'anvil-shipper-'))));
  afterEach(async () => {
    for (const sink of TestSink.all.splice(0)) sink.release();
    for (const c of cleanups.splice(0).reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });
  const spoolAt = (maxSegmentBytes?: number): Spool<Rec> => {
    const spool = new Spool<Rec>({ dir, ...(maxSegmentBytes ? { maxSegmentBytes } : {}) });
    cleanups.push(() => spool.close());
    return spool;
  };
  const started = (spool: Spool<Rec>, sinks: Sink<Rec>[], options = {}): Shipper<Rec> => {
    const shipper = new Shipper(spool, sinks, silentLogger(), { intervalMs: 50, ...options });
    cleanups.push(() => shipper.stop()); // runs before the spool's close
    shipper.start();
    return shipper;
  };
  const segmentFiles = (): string[] => readdirSync(dir).filter((f) => f.startsWith('seg-'));

  it('a slow sink does not delay another: the history takes every new record while the status sink is still busy with its first batch', async () => {
    const spool = spoolAt();
    const status = new TestSink('host-status');
    const history = new TestSink('history');
    status.hold();
    started(spool, [status, history]);
    await spool.append(range(0, 10));
    await waitFor('history has the first records', () => history.stored.size === 10);
    for (let i = 1; i < 5; i++) await spool.append(range(i * 10, i * 10 + 10));
    await waitFor('history has every record', () => history.stored.size === 50);
    expect(status.received).toBe(0); // still holding its first batch
    status.release();
    await waitFor('status has every record', () => status.stored.size === 50);
    expect(sorted(status.stored)).toEqual(sorted(history.stored));
  });

  it('a sink that is down keeps its records (and their segments) without stopping the other; it catches up when back', async () => {
    const spool = spoolAt(200); // small segments: several are closed while history is down
    const status = new TestSink('host-status');
    const history = new TestSink('history');
    history.down = true;
    const shipper = started(spool, [status, history], { backoffMaxMs: 100 });
    for (let i = 0; i < 6; i++) await spool.append(range(i * 10, i * 10 + 10));
    await waitFor('status has every record', () => status.stored.size === 60);
    expect(history.stored.size).toBe(0);
    // Status has read every closed segment, history none: nothing may be deleted yet.
    await spool.roll();
    expect(segmentFiles().length).toBeGreaterThan(1);
    expect(shipper.backlog()).toEqual({ 'host-status': 0, history: expect.any(Number) });
    expect(shipper.backlogBytes()).toBeGreaterThan(0);
    history.down = false;
    await waitFor('history caught up', () => history.stored.size === 60);
    await waitFor('every read segment deleted', () => segmentFiles().length === 0);
    expect(shipper.backlogBytes()).toBe(0);
    expect(sorted(history.stored)).toEqual(range(0, 60).map((r) => r.n));
  });

  it('ships from the segment being written as soon as a commit lands, without rolling it', async () => {
    const spool = spoolAt();
    const history = new TestSink('history');
    started(spool, [history], { intervalMs: 60_000 }); // no polling: only the commit wakes it
    await spool.append([{ n: 1 }]);
    await waitFor('the record shipped', () => history.stored.has(1));
    await spool.append([{ n: 2 }]);
    await waitFor('the next record shipped', () => history.stored.has(2));
    expect(segmentFiles()).toHaveLength(1); // still the one active segment, no roll per shipment
  });

  it('a sink with a minimum interval takes what accumulated meanwhile as one batch', async () => {
    const spool = spoolAt();
    const status = new TestSink('host-status', { maxRecords: 10_000, minIntervalMs: 60_000 });
    const history = new TestSink('history');
    const shipper = started(spool, [status, history]);
    await spool.append([{ n: 0 }]);
    await waitFor('the first record shipped at once', () => status.stored.size === 1);
    for (let i = 0; i < 10; i++) await spool.append(range(1 + i * 10, 11 + i * 10));
    await waitFor('the sink without an interval has them all', () => history.stored.size === 101);
    expect(status.batches).toEqual([[0]]);
    expect(await shipper.drain()).toBe(true); // drain ignores the interval (shutdown)
    expect(status.batches).toEqual([[0], range(1, 101).map((r) => r.n)]);
  });

  it('after a crash every sink starts again at the oldest segment left; idempotent sinks end with each record once', async () => {
    let spool = new Spool<Rec>({ dir, maxSegmentBytes: 200 });
    const status = new TestSink('host-status');
    const history = new TestSink('history');
    status.down = true;
    let shipper = new Shipper(spool, [status, history], silentLogger());
    cleanups.push(() => spool.close());
    for (let i = 0; i < 4; i++) await spool.append(range(i * 10, i * 10 + 10));
    expect(await shipper.drain()).toBe(false); // status is down
    expect(history.stored.size).toBe(40);
    const historyReceived = history.received;
    // Crash: no drain, no cursors saved. A new process opens the same directory.
    await shipper.stop();
    await spool.close();
    spool = spoolAt(200);
    await spool.append(range(40, 50));
    status.down = false;
    shipper = new Shipper(spool, [status, history], silentLogger());
    expect(await shipper.drain()).toBe(true);
    expect(history.received).toBeGreaterThan(historyReceived); // shipped again: its cursor was lost with the process
    expect(sorted(history.stored)).toEqual(range(0, 50).map((r) => r.n));
    expect(sorted(status.stored)).toEqual(range(0, 50).map((r) => r.n));
    await spool.roll();
    expect(await shipper.drain()).toBe(true);
    expect(segmentFiles()).toHaveLength(0);
  });

  it('skips a segment deleted from outside the spool and ships what comes after it', async () => {
    const spool = spoolAt(50);
    for (let i = 0; i < 4; i++) await spool.append(range(i * 10, i * 10 + 10)); // about 90 bytes: a segment each
    const [first] = segmentFiles().sort();
    rmSync(join(dir, first!));
    const history = new TestSink('history');
    started(spool, [history]);
    await waitFor('the records after the deleted segment shipped', () => history.stored.has(39));
    expect(history.stored.has(0)).toBe(false);
    expect(history.stored.size).toBe(30);
  });

  it('finds the records a sink refuses for good in a large batch by splitting it, quarantines only those, ships the rest', async () => {
    const spool = spoolAt();
    const poison = new Set([17, 611]);
    let calls = 0;
    const stored = new Set<number>();
    const history: Sink<Rec> = {
      name: 'history',
      batching: { maxRecords: 1000 },
      ship: async (records) => {
        calls++;
        if (records.some((r) => poison.has(r.n))) throw Object.assign(new Error('invalid byte sequence for encoding "UTF8"'), { code: '22021' });
        for (const r of records) stored.add(r.n);
      },
    };
    const status = new TestSink('host-status');
    const quarantine = new Quarantine<Rec>(join(dir, 'quarantine.jsonl'));
    const shipper = new Shipper(spool, [history, status], silentLogger(), { quarantine });
    await spool.append(range(0, 1000));
    expect(await shipper.drain()).toBe(true);
    expect(quarantine.list().map((q) => q.record.n).sort((a, b) => a - b)).toEqual([17, 611]);
    expect(stored.size).toBe(998);
    expect(status.stored.size).toBe(1000);
    expect(calls).toBeLessThan(50); // not one call per record
  });
});

describe('restUntil: when a sink may ship again', () => {
  it('without options, at once', () => expect(restUntil(undefined, 1000, 1300)).toBe(1300));
  it('not before its minimum interval from the start of the last batch', () => {
    expect(restUntil({ minIntervalMs: 500 }, 1000, 1100)).toBe(1500);
    expect(restUntil({ minIntervalMs: 500 }, 1000, 2000)).toBe(2000);
  });
  it('with a busy share, resting in proportion to the time the last batch took', () => {
    expect(restUntil({ maxBusyShare: 0.5 }, 1000, 4000)).toBe(7000); // 3 s busy, 3 s rest
    expect(restUntil({ maxBusyShare: 0.25, minIntervalMs: 500 }, 1000, 1100)).toBe(1500); // 300 ms rest < interval
  });
});
