// Times every batch a sink takes (the install-history database, the host status), so slow or failing writes show.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Sink } from './shipper.js';

export function measuredSinks<T>(sinks: Sink<T>[], registry: Registry): Sink<T>[] {
  const duration = new Histogram({
    name: 'anvil_sink_batch_duration_seconds',
    help: 'Time to ship one batch of spooled records to a sink (history database, host status), by outcome',
    labelNames: ['sink', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const records = new Counter({ name: 'anvil_sink_records_total', help: 'Spooled records a sink has taken', labelNames: ['sink'], registers: [registry] });
  return sinks.map((sink) => ({
    name: sink.name,
    ...(sink.batching ? { batching: sink.batching } : {}),
    async ship(batch: T[]): Promise<void> {
      const end = duration.startTimer({ sink: sink.name });
      try {
        await sink.ship(batch);
        end({ outcome: 'ok' });
        records.inc({ sink: sink.name }, batch.length);
      } catch (err) {
        end({ outcome: 'error' });
        throw err;
      }
    },
  }));
}
