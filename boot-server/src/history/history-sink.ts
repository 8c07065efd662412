// Ships spooled records into the install history: installations (started from the first record of an install,
// finished on the installer's verdict), installer events (stored once each), boot requests and discovered machines.
// Every write is idempotent, so re-shipping a segment after a crash stores nothing twice.
import type { Logger } from 'pino';
import { verdictOf } from '../../../shared/src/install/installer-events.js';
import type { HistoryStore, InstallStarted } from '../../../shared/src/db/history-store.js';
import { HistoryQueryError } from '../../../shared/src/db/store-util.js';
import type { Sink } from '../spool/shipper.js';
import type { BootRequestRecord, InstallerEventRecord, SpoolRecord } from '../spool/records.js';

export class HistorySink implements Sink<SpoolRecord> {
  readonly name = 'history';
  /** Records that can never be stored (a non-UUID installation id, an impossible time), dropped and logged. */
  dropped = 0;

  constructor(
    private readonly store: HistoryStore,
    private readonly log: Logger,
  ) {}

  async ship(records: SpoolRecord[]): Promise<void> {
    const events = records.filter((r): r is InstallerEventRecord => r.kind === 'installer-event');
    const boots = records.filter((r): r is BootRequestRecord => r.kind === 'boot-request');

    // Installations first, so events and boot requests can refer to them.
    const started = new Map<string, InstallStarted>();
    for (const r of [...boots, ...events]) {
      const install = r.install;
      if (!install || !r.host || started.has(install.installationId)) continue;
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
      if (result.invalid) {
        this.dropped += result.invalid;
        this.log.warn({ invalid: result.invalid }, 'install starts that can never be stored were dropped');
      }
    }

    if (events.length) {
      const result = await this.store.recordInstallerEvents(
        events.map((e) => ({ installationId: e.installationId, event: e.event, eventKey: e.eventKey, raw: e.raw, receivedAt: e.receivedAt })),
      );
      if (result.invalid) this.log.warn({ invalid: result.invalid }, 'installer events that can never be stored were dropped');
    }
    // The installer's top-level result finishes the installation (first one wins; the store keeps it). Its failed
    // stage and reason are derived by the store from the deepest FAIL stored for it, whichever batch brought it.
    for (const e of events) {
      const verdict = e.afterVerdict ? undefined : verdictOf(e.event);
      if (!verdict) continue;
      await this.unlessInvalid(() => this.store.recordInstallFinished({
        installationId: e.installationId,
        result: verdict,
        finishedAt: e.event.timestamp !== undefined ? new Date(e.event.timestamp * 1000) : e.receivedAt,
        reason: verdict === 'SUCCESS' ? 'Succeeded' : 'InstallerFailed',
      }), { installationId: e.installationId, host: e.host });
    }

    if (boots.length) {
      await this.store.recordBootRequests(
        boots.map((b) => ({
          time: b.time,
          mac: b.mac,
          clientIp: b.clientIP,
          path: b.path,
          served: b.served,
          ...(b.host ? { host: { namespace: b.host.namespace, name: b.host.name } } : {}),
          ...(b.installationId ? { installationId: b.installationId } : {}),
        })),
      );
      const unknown = boots.filter((b) => !b.host);
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
  }

  /**
   * A record the store rejects as invalid would fail the same way on every retry and hold up everything spooled
   * after it (the Sink contract): log it, count it and go on. Any other error is thrown, so the batch is retried.
   */
  private async unlessInvalid(write: () => Promise<unknown>, what: Record<string, unknown>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (!(err instanceof HistoryQueryError)) throw err;
      this.dropped++;
      this.log.warn({ ...what, reason: err.message }, 'history: dropped a record that can never be stored');
    }
  }
}
