import { ItemExponentialBackoff } from './rate-limiter.js';
import { WorkQueue } from './workqueue.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.length).toBe(0);
  });

  it('never hands a key to two workers at once; an add during processing is delivered after done()', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    const first = await q.get();
    expect(first).toBe('a');
    q.add('a'); // changed while being processed
    q.add('a');
    expect(q.length).toBe(0); // not available to a second worker
    let second: string | undefined;
    const waiting = q.get().then((k) => (second = k));
    await tick();
    expect(second).toBeUndefined();
    q.done('a');
    await waiting;
    expect(second).toBe('a');
    q.done('a');
    expect(q.length).toBe(0);
  });

  it('runs many workers without ever processing one key concurrently', async () => {
    const q = new WorkQueue<string>();
    const active = new Set<string>();
    let overlaps = 0;
    let processed = 0;
    const worker = async () => {
      for (;;) {
        const k = await q.get();
        if (k === undefined) return;
        if (active.has(k)) overlaps++;
        active.add(k);
        await new Promise((r) => setTimeout(r, Math.random() * 2));
        active.delete(k);
        processed++;
        q.done(k);
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    for (let i = 0; i < 400; i++) {
      q.add(`k${i % 5}`);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    // Drained: nothing queued and nothing in a worker's hands (each key's last add has been processed).
    for (let turn = 0; q.length > 0 || active.size > 0; turn++) {
      if (turn > 100_000) throw new Error('the workers never drained the queue');
      await new Promise((r) => setTimeout(r, 1));
    }
    q.shutDown();
    await Promise.all(workers);
    expect(overlaps).toBe(0);
    expect(processed).toBeGreaterThanOrEqual(5);
  });

  it('delays addAfter and keeps the earliest pending delay', async () => {
    const q = new WorkQueue<string>();
    q.addAfter('a', 40);
    q.addAfter('a', 1000);
    expect(q.length).toBe(0);
    const got = await q.get();
    expect(got).toBe('a');
  });

  it('get() resolves undefined after shutdown', async () => {
    const q = new WorkQueue<string>();
    const p = q.get();
    q.shutDown();
    expect(await p).toBeUndefined();
    q.add('x');
    expect(q.length).toBe(0);
  });
});

describe('ItemExponentialBackoff', () => {
  it('doubles per failure from 5 ms up to 1000 s and resets on forget', () => {
    const b = new ItemExponentialBackoff<string>();
    const delays = Array.from({ length: 5 }, () => b.when('x'));
    expect(delays).toEqual([5, 10, 20, 40, 80]);
    for (let i = 0; i < 40; i++) b.when('x');
    expect(b.when('x')).toBe(1_000_000);
    expect(b.when('y')).toBe(5); // per item
    b.forget('x');
    expect(b.retries('x')).toBe(0);
    expect(b.when('x')).toBe(5);
  });

  it('drives addRateLimited: retries grow, forget resets', () => {
    const q = new WorkQueue<string>(new ItemExponentialBackoff(5, 1000));
    expect(q.addRateLimited('a')).toBe(5);
    expect(q.addRateLimited('a')).toBe(10);
    expect(q.retries('a')).toBe(2);
    q.forget('a');
    expect(q.addRateLimited('a')).toBe(5);
    q.shutDown();
  });
});
