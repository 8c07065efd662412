// Prometheus metrics of the TFTP server, registered in the caller's registry (never the global one).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TransferResult } from './session.js';

export interface TftpMetrics {
  transfers: Counter<'result'>;
  bytesSent: Counter;
  retransmits: Counter;
  duration: Histogram<'result'>;
  activeSessions: Gauge;
}

export const TRANSFER_RESULTS: readonly TransferResult[] = ['ok', 'error', 'timeout', 'aborted'];

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createTftpMetrics(registry: Registry = new Registry()): TftpMetrics {
  const registers = [registry];
  const transfers = reuse(registry, 'anvil_tftp_transfers_total', () => new Counter({ name: 'anvil_tftp_transfers_total', help: 'TFTP read requests handled, by result (ok, error: refused or failed, timeout, aborted: the client gave up)', labelNames: ['result'] as const, registers }));
  for (const result of TRANSFER_RESULTS) transfers.inc({ result }, 0);
  return {
    transfers,
    bytesSent: reuse(registry, 'anvil_tftp_bytes_sent_total', () => new Counter({ name: 'anvil_tftp_bytes_sent_total', help: 'TFTP DATA payload bytes sent, retransmissions included', registers })),
    retransmits: reuse(registry, 'anvil_tftp_retransmits_total', () => new Counter({ name: 'anvil_tftp_retransmits_total', help: 'TFTP packets (DATA or OACK) sent again after a timeout or a mid-window ACK', registers })),
    duration: reuse(registry, 'anvil_tftp_transfer_duration_seconds', () => new Histogram({ name: 'anvil_tftp_transfer_duration_seconds', help: 'Duration of TFTP transfers from request to end, by result', labelNames: ['result'] as const, buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers })),
    activeSessions: reuse(registry, 'anvil_tftp_active_sessions', () => new Gauge({ name: 'anvil_tftp_active_sessions', help: 'TFTP transfers in progress', registers })),
  };
}
