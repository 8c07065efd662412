import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@anvil/core/logging';
import { ApiError } from '@anvil/core/kube';
import { Quarantine } from './quarantine.js';
import { Shipper, type Sink } from './shipper.js';
import { Spool } from './spool.js';

describe('shipping with a quarantine', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'anvil-quarantine-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const sink = (name: string, refuse: (r: { n: number }) => Error | undefined): Sink<{ n: number }> & { taken: number[] } => {
    const taken: number[] = [];
    return {
      name,
      taken,
      async ship(records) {
        for (const r of records) {
          const err = refuse(r);
          if (err) throw err;
        }
        taken.push(...records.map((r) => r.n));
      },
    };
  };

  it('a record one sink refuses for good is quarantined with its reason; every other record reaches every sink', async () => {
    const spool = new Spool<{ n: number }>({ dir: join(dir, 'spool') });
    await spool.append([1, 2, 3, 4].map((n) => ({ n })));
    const history = sink('history', (r) => (r.n === 2 ? Object.assign(new Error('invalid byte sequence for encoding "UTF8"'), { code: '22021' }) : undefined));
    const status = sink('host-status', () => undefined);
    const quarantine = new Quarantine<{ n: number }>(join(dir, 'spool', 'quarantine.jsonl'));
    const counted: string[] = [];
    const shipper = new Shipper(spool, [history, status], silentLogger(), { quarantine, onQuarantine: (s) => counted.push(s) });
    expect(await shipper.drain()).toBe(true);
    expect(history.taken.sort()).toEqual([1, 3, 4]);
    expect(status.taken).toEqual([1, 2, 3, 4]);
    expect(counted).toEqual(['history']);
    expect(quarantine.list()).toEqual([expect.objectContaining({ sink: 'history', record: { n: 2 }, reason: expect.stringContaining('invalid byte sequence') })]);
    // Durable: a new process reads it back, and the same record refused again after a crash is kept once.
    const reopened = new Quarantine<{ n: number }>(join(dir, 'spool', 'quarantine.jsonl'));
    expect(reopened.count).toBe(1);
    expect(reopened.add('history', 'again', { n: 2 })).toBeUndefined();
    expect(reopened.add('host-status', 'another sink', { n: 2 })).toBeDefined();
    expect(new Quarantine(join(dir, 'spool', 'quarantine.jsonl')).count).toBe(2);
    await shipper.stop();
    await spool.close();
  });

  it('an outage is waited out, never quarantined', async () => {
    const spool = new Spool<{ n: number }>({ dir: join(dir, 'spool') });
    await spool.append([{ n: 1 }]);
    let down = true;
    const history = sink('history', () => (down ? Object.assign(new Error('Connection terminated unexpectedly')) : undefined));
    const status = sink('host-status', () => (down ? new ApiError(503, 'ServiceUnavailable', 'apiserver unavailable') : undefined));
    const quarantine = new Quarantine<{ n: number }>(join(dir, 'q.jsonl'));
    const shipper = new Shipper(spool, [history, status], silentLogger(), { quarantine });
    expect(await shipper.drain()).toBe(false);
    expect(quarantine.count).toBe(0);
    down = false;
    expect(await shipper.drain()).toBe(true);
    expect(history.taken).toEqual([1]);
    expect(quarantine.count).toBe(0);
    await shipper.stop();
    await spool.close();
  });
});
