import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@anvil/core/logging';
import { Shipper, type Sink } from './shipper.js';
import { Spool } from './spool.js';

const dirs: string[] = [];
const dir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'anvil-spool-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('Spool and Shipper', () => {
  it('group-commits concurrent appends and ships each record once the sinks take it', async () => {
    const spool = new Spool<{ n: number }>({ dir: dir() });
    await Promise.all(Array.from({ length: 50 }, (_, n) => spool.append([{ n }])));
    const got: number[] = [];
    const sink: Sink<{ n: number }> = { name: 'mem', ship: async (rs) => void got.push(...rs.map((r) => r.n)) };
    const shipper = new Shipper(spool, [sink], silentLogger(), { batchSize: 7 });
    expect(await shipper.drain()).toBe(true);
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, n) => n));
    await spool.close();
  });

  it('keeps records while a sink is down and delivers them (again, idempotently) after a restart', async () => {
    const d = dir();
    let spool = new Spool<{ n: number }>({ dir: d });
    await spool.append([{ n: 1 }, { n: 2 }]);
    let down = true;
    const got: number[] = [];
    const flaky: Sink<{ n: number }> = {
      name: 'db',
      ship: async (rs) => {
        if (down) throw new Error('database unavailable');
        got.push(...rs.map((r) => r.n));
      },
    };
    let shipper = new Shipper(spool, [flaky], silentLogger());
    expect(await shipper.drain()).toBe(false);
    await spool.append([{ n: 3 }]);
    await spool.close(); // "crash": a new process opens the same directory
    spool = new Spool<{ n: number }>({ dir: d });
    down = false;
    shipper = new Shipper(spool, [flaky], silentLogger());
    expect(await shipper.drain()).toBe(true);
    expect(got.sort()).toEqual([1, 2, 3]);
    await spool.close();
  });

  it('ships to every sink at once, never two batches to one sink at once, and retries only the sink that failed', async () => {
    const spool = new Spool<{ n: number }>({ dir: dir() });
    await spool.append([{ n: 1 }]);
    const inFlight = new Set<string>();
    let bothAtOnce = false;
    let overlapping = false;
    let historyCalls = 0;
    let statusCalls = 0;
    const sink = (name: string, fail: () => boolean): Sink<{ n: number }> => ({
      name,
      ship: async () => {
        if (name === 'status') statusCalls++;
        if (inFlight.has(name)) overlapping = true;
        inFlight.add(name);
        if (inFlight.size === 2) bothAtOnce = true;
        await new Promise((r) => setTimeout(r, name === 'status' ? 30 : 5));
        inFlight.delete(name);
        if (fail()) throw new Error(`${name} down`);
      },
    });
    const shipper = new Shipper(spool, [sink('status', () => false), sink('history', () => ++historyCalls === 1)], silentLogger());
    expect(await shipper.drain()).toBe(false); // history failed fast; drain waited for status too
    expect(inFlight.size).toBe(0);
    expect(await shipper.drain()).toBe(true);
    expect(bothAtOnce).toBe(true);
    expect(overlapping).toBe(false);
    expect(statusCalls).toBe(1); // status took the record the first time; only history got it again
    await spool.close();
  });

  it('reads committed records with a cursor: from the segment being written, across segments, in bounded batches', async () => {
    const spool = new Spool<{ n: number }>({ dir: dir(), maxSegmentBytes: 40 });
    const start = spool.start();
    expect(spool.read(start, 10).records).toEqual([]);
    for (let n = 0; n < 12; n++) await spool.append([{ n }]);
    const first = spool.read(start, 5);
    expect(first.records.map((r) => r.n)).toEqual([0, 1, 2, 3, 4]);
    const rest = spool.read(first.next, 100);
    expect(rest.records.map((r) => r.n)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(spool.isAtEnd(rest.next)).toBe(true);
    expect(spool.bytesAfter(first.next)).toBeGreaterThan(0);
    await spool.append([{ n: 12 }]);
    expect(spool.read(rest.next, 100).records).toEqual([{ n: 12 }]);
    await spool.close();
  });

  it('deletes a segment only when it is closed and every cursor has read all of it', async () => {
    const d = dir();
    const spool = new Spool<{ n: number }>({ dir: d, maxSegmentBytes: 16 });
    for (let n = 0; n < 6; n++) await spool.append([{ n }]); // 8 bytes each: two per segment, the last one active
    const segs = () => readdirSync(d).filter((f) => f.startsWith('seg-')).length;
    expect(segs()).toBe(3);
    const all = spool.read(spool.start(), 100).next;
    const two = spool.read(spool.start(), 2).next; // at the end of the first segment
    spool.removeRead([all, spool.start()]);
    expect(segs()).toBe(3); // one reader has read nothing
    spool.removeRead([all, two]);
    expect(segs()).toBe(2); // the first segment; the second is not read by both
    spool.removeRead([all, all]);
    expect(segs()).toBe(1); // the active segment stays until it is closed
    await spool.roll();
    spool.removeRead([all, all]);
    expect(segs()).toBe(0);
    await spool.close();
  });

  it('writes each commit right after the last committed byte: what a failed write left behind is overwritten, never read', async () => {
    const d = dir();
    const spool = new Spool<{ n: number }>({ dir: d });
    await spool.append([{ n: 1 }]);
    const [file] = readdirSync(d).filter((f) => f.startsWith('seg-'));
    appendFileSync(join(d, file!), '{"n":99,"half of a failed wri'); // as a write that failed halfway leaves it
    await spool.append([{ n: 2 }, { n: 3 }]);
    expect(spool.read(spool.start(), 100).records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(readFileSync(join(d, file!), 'utf8')).toMatch(/^\{"n":1\}\n\{"n":2\}\n\{"n":3\}\n/);
    await spool.close();
    // After a restart the rest of that failed write is a torn tail: skipped.
    const again = new Spool<{ n: number }>({ dir: d });
    expect(again.read(again.start(), 100).records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await again.close();
  });

  it('skips a torn last line of a segment left by a crash, and reads a record longer than a read chunk', async () => {
    const d = dir();
    const big = 'x'.repeat(3 * 1024 * 1024);
    let spool = new Spool<{ n: number; pad?: string }>({ dir: d });
    await spool.append([{ n: 1 }, { n: 2, pad: big }, { n: 3 }]);
    await spool.close();
    const [file] = readdirSync(d).filter((f) => f.startsWith('seg-'));
    appendFileSync(join(d, file!), '{"n":4,"pad":"torn by a cra'); // written, never fsynced nor acknowledged
    spool = new Spool<{ n: number; pad?: string }>({ dir: d });
    await spool.append([{ n: 5 }]);
    const got = spool.read(spool.start(), 100);
    expect(got.records.map((r) => r.n)).toEqual([1, 2, 3, 5]);
    expect(got.records[1]!.pad).toHaveLength(big.length);
    expect(spool.isAtEnd(got.next)).toBe(true);
    await spool.close();
  });

  it('never lists a segment opened while roll() closes the previous one (it would be deleted while written)', async () => {
    const spool = new Spool<{ n: number }>({ dir: dir() });
    await spool.append([{ n: 1 }]);
    const rolling = spool.roll(); // closes segment 1; an append arriving meanwhile opens segment 2
    const appended = spool.append([{ n: 2 }]);
    await rolling;
    const first = spool.closedSegments();
    expect(first.map((s) => s.records)).toEqual([[{ n: 1 }]]);
    for (const seg of first) spool.remove(seg.seq); // what the shipper does once its sinks took them
    await appended; // acknowledged: it must still be on disk
    await spool.roll();
    expect(spool.closedSegments().flatMap((s) => s.records)).toEqual([{ n: 2 }]);
    await spool.close();
  });

  it('starts a new segment when the active one fills up while appends keep arriving (no shipper roll in between)', async () => {
    const spool = new Spool<{ n: number; pad: string }>({ dir: dir(), maxSegmentBytes: 1024 });
    const pad = 'x'.repeat(400);
    // Appends arriving during a write are committed by the next pass of the same flush loop, which finds the
    // segment full: it must close it itself rather than wait for the loop it runs in.
    const appended: Promise<void>[] = [];
    for (let n = 0; n < 40; n++) {
      appended.push(spool.append([{ n, pad }]));
      if (n % 4 === 3) await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(appended);
    await spool.roll();
    const segments = spool.closedSegments();
    expect(segments.length).toBeGreaterThan(1);
    expect(segments.flatMap((s) => s.records.map((r) => r.n))).toEqual(Array.from({ length: 40 }, (_, n) => n));
  });
});
