// Ships spooled records into the install history: installations (started from the first record of an install,
// finished on the installer's verdict), installer events (stored once each), boot requests of known hosts, and
// machines without a host once each (discovered machines, bounded by the discovery budget).
// Every write is idempotent, so re-shipping a segment after a crash stores nothing twice (only a discovered
// machine's sighting count adds that segment's sightings again).
import type { Logger } from 'pino';
import { verdictOf } from '@anvil/core/install';
import { type HistoryStore, type InstallStarted, HistoryQueryError } from '@anvil/core/db';
import { forEachLimit } from '../spool/for-each-limit.js';
import type { Sink, SinkBatching } from '../spool/shipper.js';
import type { BootRequestRecord, InstallerEventRecord, SpoolRecord } from '../spool/records.js';
import { DiscoveryBudget } from './discovery-budget.js';

/** Installations whose start this process has stored, remembered so later batches skip rewriting them. */
const STARTED_MEMORY = 50_000;
/** Installer events per store call (the SQL store's statement size), and such calls in flight at once. */
const WRITE_CHUNK = 500;
const PARALLEL_WRITES = 4;

export class HistorySink implements Sink<SpoolRecord> {
  readonly name = 'history';
  // A batch is written as chunks of 500 rows, four at once. At most ten batches a second: a steady trickle (one
  // installer posting back to back) is stored as batches of what came in meanwhile, not as one transaction per event.
  readonly batching: SinkBatching = { maxRecords: 2000, minIntervalMs: 100 };
  /**
   * An installation's row, once stored, is never changed by a later start (the first one wins) and never deleted by
   * anvil, so a start this process has stored is not written again: with 1,000 installers sending at once, every
   * batch would otherwise carry one start per installer, as many rows as events.
   */
  private readonly started = new Set<string>();

  constructor(
    private readonly store: HistoryStore,
    private readonly log: Logger,
    /** Bounds the discovered machines recorded per source address and window (see discovery-budget.ts). */
    private readonly discovery = new DiscoveryBudget(),
  ) {}

  async ship(records: SpoolRecord[]): Promise<void> {
    const events = records.filter((r): r is InstallerEventRecord => r.kind === 'installer-event');
    const boots = records.filter((r): r is BootRequestRecord => r.kind === 'boot-request');

    // Installations first, so events and boot requests can refer to them.
    const started = new Map<string, InstallStarted>();
    for (const r of [...boots, ...events]) {
      const install = r.install;
      if (!install || !r.host || started.has(install.installationId) || this.started.has(install.installationId)) continue;
      started.set(install.installationId, {
        installationId: install.installationId,
        host: { namespace: r.host.namespace, name: r.host.name, uid: r.host.uid },
        mac: r.mac,
        ...(install.template ? { template: { name: install.template.name, contentHash: install.template.contentHash } } : {}),
        revision: install.revision,
        attempt: install.attempt,
        startedAt: r.kind === 'boot-request' ? r.time : r.receivedAt,
      });
    }
    if (started.size) {
      const result = await this.store.recordInstallsStarted([...started.values()]);
      // Thrown, not dropped: the shipper then splits the batch down to the records refused and quarantines them.
      if (result.invalid) throw new HistoryQueryError(`${result.invalid} install start(s) can never be stored (installation id not a UUID, or an impossible time)`);
      for (const id of started.keys()) this.rememberStarted(id);
    }

    if (events.length) {
      // Chunks in parallel transactions: under load the boot-server's event loop is busy with the webhook, and each
      // statement waits a turn of it per round trip; in flight together, the chunks wait those turns together.
      // Events are independent rows (stored once each by their key), so their order of storing does not matter;
      // the verdicts below are recorded only once all of them are stored.
      const inputs = events.map((e) => ({ installationId: e.installationId, event: e.event, eventKey: e.eventKey, raw: e.raw, receivedAt: e.receivedAt }));
      const chunks = Array.from({ length: Math.ceil(inputs.length / WRITE_CHUNK) }, (_, i) => inputs.slice(i * WRITE_CHUNK, (i + 1) * WRITE_CHUNK));
      let invalid = 0;
      await forEachLimit(chunks, PARALLEL_WRITES, async (chunk) => void (invalid += (await this.store.recordInstallerEvents(chunk)).invalid));
      if (invalid) throw new HistoryQueryError(`${invalid} installer event(s) can never be stored (installation id not a UUID, or an impossible time)`);
    }
    // The installer's top-level result finishes the installation (first one wins; the store keeps it). Its failed
    // stage and reason are derived by the store from the deepest FAIL stored for it, whichever batch brought it.
    for (const e of events) {
      const verdict = e.afterVerdict ? undefined : verdictOf(e.event);
      if (!verdict) continue;
      await this.store.recordInstallFinished({
        installationId: e.installationId,
        result: verdict,
        finishedAt: e.event.timestamp !== undefined ? new Date(e.event.timestamp * 1000) : e.receivedAt,
        reason: verdict === 'SUCCESS' ? 'Succeeded' : 'InstallerFailed',
        receivedAt: e.receivedAt,
      });
    }

    // Boot requests of known hosts are their history, one row each. A machine without a host (anyone can invent
    // MACs) is recorded once: its discovered_machines row counts the sightings, within the discovery budget.
    const known = boots.filter((b) => b.host);
    if (known.length) {
      await this.store.recordBootRequests(
        known.map((b) => ({
          time: b.time,
          mac: b.mac,
          clientIp: b.clientIP,
          path: b.path,
          served: b.served,
          ...(b.host ? { host: { namespace: b.host.namespace, name: b.host.name } } : {}),
          ...(b.installationId ? { installationId: b.installationId } : {}),
        })),
      );
    }
    const unknown = boots.filter((b) => !b.host && this.discovery.admit(b.mac, b.clientIP, Date.parse(b.time)));
    const notice = this.discovery.takeNotice();
    if (notice) this.log.warn({ ...notice, ...this.discovery.options }, 'unknown machines beyond the discovery budget are not recorded this window (a flood of invented MACs?)');
    if (unknown.length) {
      await this.store.recordDiscovered(
        unknown.map((b) => ({
          mac: b.mac,
          seenAt: b.time,
          ip: b.clientIP,
          ...(b.facts?.arch ? { arch: b.facts.arch } : {}),
          ...(b.facts?.platform ? { platform: b.facts.platform } : {}),
          ...(b.facts?.uuid ? { systemUuid: b.facts.uuid } : {}),
        })),
      );
    }
  }

  private rememberStarted(installationId: string): void {
    this.started.add(installationId);
    if (this.started.size > STARTED_MEMORY) this.started.delete(this.started.values().next().value!);
  }

}
