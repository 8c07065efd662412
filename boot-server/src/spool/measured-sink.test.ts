import { Registry } from 'prom-client';
import { measuredSinks } from './measured-sink.js';

describe('measuredSinks', () => {
  it('times batches by sink and outcome, counts taken records, and passes failures on', async () => {
    const registry = new Registry();
    let fail = true;
    const [history] = measuredSinks<number>([{ name: 'history', ship: async () => { if (fail) throw new Error('db down'); } }], registry);
    await expect(history!.ship([1, 2])).rejects.toThrow('db down');
    fail = false;
    await history!.ship([1, 2, 3]);
    const text = await registry.metrics();
    expect(text).toMatch(/anvil_sink_batch_duration_seconds_count\{sink="history",outcome="error"\} 1/);
    expect(text).toMatch(/anvil_sink_batch_duration_seconds_count\{sink="history",outcome="ok"\} 1/);
    expect(text).toMatch(/anvil_sink_records_total\{sink="history"\} 3/);
  });
});
