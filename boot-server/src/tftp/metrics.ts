// Prometheus metrics of the TFTP server, registered in the caller's registry (never the global one).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TransferResult } from './session.js';

export interface TftpMetrics {
  transfers: Counter<'result'>;
  bytesSent: Counter;
  retransmits: Counter;
  duration: Histogram<'result'>;
  activeSessions: Gauge;
  /** Requests refused by a session cap: limit="client" (the source's own cap) or "server" (the global cap). */
  limited: Counter<'limit'>;
  /** Half-open sessions ended early because slots were wanted. */
  reclaimed: Counter;
}

export const TRANSFER_RESULTS: readonly TransferResult[] = ['ok', 'error', 'timeout', 'aborted'];

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createTftpMetrics(registry: Registry = new Registry()): TftpMetrics {
  const registers = [registry];
  const transfers = reuse(registry, 'anvil_tftp_transfers_total', () => new Counter({ name: 'anvil_tftp_transfers_total', help: 'TFTP read requests handled, by result (ok, error: refused or failed, timeout, aborted: the client gave up)', labelNames: ['result'] as const, registers }));
  for (const result of TRANSFER_RESULTS) transfers.inc({ result }, 0);
  const limited = reuse(registry, 'anvil_tftp_session_limit_refusals_total', () => new Counter({ name: 'anvil_tftp_session_limit_refusals_total', help: 'TFTP read requests refused for lack of a session slot: limit=client (the source address reached its own cap) or server (the global cap)', labelNames: ['limit'] as const, registers }));
  for (const limit of ['client', 'server']) limited.inc({ limit }, 0);
  return {
    transfers,
    bytesSent: reuse(registry, 'anvil_tftp_bytes_sent_total', () => new Counter({ name: 'anvil_tftp_bytes_sent_total', help: 'TFTP DATA payload bytes sent, retransmissions included', registers })),
    retransmits: reuse(registry, 'anvil_tftp_retransmits_total', () => new Counter({ name: 'anvil_tftp_retransmits_total', help: 'TFTP packets (DATA or OACK) sent again after a timeout or a mid-window ACK', registers })),
    duration: reuse(registry, 'anvil_tftp_transfer_duration_seconds', () => new Histogram({ name: 'anvil_tftp_transfer_duration_seconds', help: 'Duration of TFTP transfers from request to end, by result', labelNames: ['result'] as const, buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers })),
    activeSessions: reuse(registry, 'anvil_tftp_active_sessions', () => new Gauge({ name: 'anvil_tftp_active_sessions', help: 'TFTP transfers in progress', registers })),
    limited,
    reclaimed: reuse(registry, 'anvil_tftp_reclaimed_sessions_total', () => new Counter({ name: 'anvil_tftp_reclaimed_sessions_total', help: 'TFTP sessions the client never acknowledged, ended at a retransmission timeout because slots were wanted (also counted as result=timeout)', registers })),
  };
}
