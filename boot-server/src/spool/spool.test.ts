import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../shared/src/logging.js';
import { Shipper, type Sink } from './shipper.js';
import { Spool } from './spool.js';

const dir = () => mkdtempSync(join(tmpdir(), 'anvil-spool-'));

describe('Spool and Shipper', () => {
  it('group-commits concurrent appends and ships each record once the sinks take it', async () => {
    const spool = new Spool<{ n: number }>({ dir: dir() });
    await Promise.all(Array.from({ length: 50 }, (_, n) => spool.append([{ n }])));
    const got: number[] = [];
    const sink: Sink<{ n: number }> = { name: 'mem', ship: async (rs) => void got.push(...rs.map((r) => r.n)) };
    const shipper = new Shipper(spool, [sink], silentLogger(), { batchSize: 7 });
    expect(await shipper.drain()).toBe(true);
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, n) => n));
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
  });

  it('ships a batch to every sink at once, and retries a failed batch only after every sink has settled', async () => {
    const spool = new Spool<{ n: number }>({ dir: dir() });
    await spool.append([{ n: 1 }]);
    const inFlight = new Set<string>();
    let bothAtOnce = false;
    let overlapping = false;
    let historyCalls = 0;
    const sink = (name: string, fail: () => boolean): Sink<{ n: number }> => ({
      name,
      ship: async () => {
        if (inFlight.has(name)) overlapping = true;
        inFlight.add(name);
        if (inFlight.size === 2) bothAtOnce = true;
        await new Promise((r) => setTimeout(r, name === 'status' ? 30 : 5));
        inFlight.delete(name);
        if (fail()) throw new Error(`${name} down`);
      },
    });
    const shipper = new Shipper(spool, [sink('status', () => false), sink('history', () => ++historyCalls === 1)], silentLogger());
    expect(await shipper.drain()).toBe(false); // history failed fast; status was still shipping and was awaited
    expect(inFlight.size).toBe(0);
    expect(await shipper.drain()).toBe(true);
    expect(bothAtOnce).toBe(true);
    expect(overlapping).toBe(false);
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
