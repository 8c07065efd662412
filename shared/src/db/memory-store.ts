// An in-memory HistoryStore with the same semantics as the SQL one (idempotent writes, keyset pages, stats), for
// unit tests of the operator, the boot-server and the API. The conformance suite (testing/conformance.ts) runs
// against both. `failNext(err)` makes the next write throw, to test callers' retry paths.
import { randomUUID } from 'node:crypto';
import type {
  BatchResult,
  BootRequest,
  BootRequestInput,
  DiscoveredMachine,
  DiscoveredMachineInput,
  FinishOutcome,
  HistoryStore,
  HostKey,
  InstallFinished,
  InstallStarted,
  InstallStats,
  Installation,
  InstallerEventInput,
  Page,
  PageRequest,
  PruneResult,
  StoredInstallerEvent,
  TemplateBuild,
  TemplateBuildFinished,
  TemplateBuildStarted,
  TemplateStats,
} from './history-store.js';
import { applySightings, sightingsByMac } from './discovery.js';
import {
  clean,
  decodeCursor,
  finishColumns,
  HistoryQueryError,
  isFailureEvidence,
  isUuid,
  MAX_FAILURE_EVENTS,
  needsDerivedFailure,
  normalizeBootRequests,
  normalizeEvents,
  normalizeMac,
  pageLimit,
  percentileCont,
  requireDate,
  toDate,
  toPage,
  type CursorKey,
} from './store-util.js';

const copy = <T>(x: T): T => structuredClone(x);

/** Compare (time, id) pairs: by time, then by id as text (the same order PostgreSQL gives UUIDs). */
const cmp = (a: [number, string], b: [number, string]) => (a[0] - b[0]) || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

function descPage<T>(rows: T[], page: PageRequest | undefined, key: (x: T) => [Date, string]): Page<T> {
  const limit = pageLimit(page);
  const c = decodeCursor(page?.cursor, 2);
  const k = (x: T): [number, string] => {
    const [t, id] = key(x);
    return [t.getTime(), id];
  };
  const sorted = rows.sort((a, b) => cmp(k(b), k(a))).filter((x) => !c || cmp(k(x), [c.times[0]!.getTime(), c.id]) < 0);
  return toPage(sorted.slice(0, limit + 1).map(copy), limit, (x): CursorKey => {
    const [t, id] = key(x);
    return [t.toISOString(), id];
  });
}

export class MemoryHistoryStore implements HistoryStore {
  readonly describe = 'in memory';
  readonly installations = new Map<string, Installation>();
  readonly events: StoredInstallerEvent[] = [];
  readonly bootRequests = new Map<string, BootRequest>();
  readonly discovered = new Map<string, DiscoveredMachine>();
  readonly builds = new Map<string, TemplateBuild>();
  private failure?: Error;
  closed = false;

  /** Forgets everything (between tests). */
  clear(): void {
    this.installations.clear();
    this.events.splice(0);
    this.bootRequests.clear();
    this.discovered.clear();
    this.builds.clear();
  }

  /** The next write throws err (once). */
  failNext(err: Error = new Error('injected failure')): void {
    this.failure = err;
  }

  private write(): void {
    if (this.closed) throw new Error('history store is closed');
    const f = this.failure;
    this.failure = undefined;
    if (f) throw f;
  }

  retryCount(): number {
    return 0;
  }

  async recordInstallStarted(i: InstallStarted): Promise<void> {
    this.write();
    if (!isUuid(i.installationId)) throw new HistoryQueryError(`installationId must be a UUID: ${i.installationId}`);
    const startedAt = requireDate(i.startedAt, 'startedAt');
    const id = i.installationId.toLowerCase();
    if (this.installations.has(id)) return;
    this.installations.set(id, {
      id,
      host: { namespace: i.host.namespace, name: i.host.name, uid: i.host.uid },
      mac: normalizeMac(i.mac),
      template: { name: i.template?.name ?? null, contentHash: i.template?.contentHash ?? null, generation: i.template?.generation ?? null },
      revision: i.revision,
      attempt: i.attempt,
      startedAt,
      finishedAt: null,
      finishReceivedAt: null,
      result: null,
      durationSeconds: null,
      failureReason: null,
      failureMessage: null,
      failureStage: null,
    });
  }

  async recordInstallsStarted(inputs: readonly InstallStarted[]): Promise<BatchResult> {
    this.write();
    let inserted = 0;
    let invalid = 0;
    for (const i of inputs) {
      if (!isUuid(i.installationId) || !toDate(i.startedAt)) {
        invalid++;
        continue;
      }
      const known = this.installations.has(i.installationId.toLowerCase());
      await this.recordInstallStarted(i);
      if (!known) inserted++;
    }
    return { inserted, invalid };
  }

  async recordInstallFinished(f: InstallFinished): Promise<FinishOutcome> {
    this.write();
    const row = isUuid(f.installationId) ? this.installations.get(f.installationId.toLowerCase()) : undefined;
    const finishedAt = requireDate(f.finishedAt, 'finishedAt');
    const receivedAt = f.receivedAt === undefined ? new Date() : requireDate(f.receivedAt, 'receivedAt');
    if (!row) return 'not-found';
    if (row.finishedAt) return 'already-finished';
    const events = this.events.filter((e) => e.installationId === row.id);
    const earliestEvent = events.reduce<Date | undefined>((min, e) => (!min || e.eventTime < min ? e.eventTime : min), undefined);
    const evidence = needsDerivedFailure(f)
      ? events
          .filter(isFailureEvidence)
          .sort((a, b) => a.eventTime.getTime() - b.eventTime.getTime() || a.receivedAt.getTime() - b.receivedAt.getTime())
          .slice(0, MAX_FAILURE_EVENTS)
      : undefined;
    Object.assign(row, finishColumns(f, { finishedAt, receivedAt, startedAt: row.startedAt, earliestEvent }, evidence));
    return 'updated';
  }

  async recordInstallerEvents(inputs: readonly InstallerEventInput[]): Promise<BatchResult> {
    this.write();
    const { events, invalid } = normalizeEvents(inputs);
    let inserted = 0;
    for (const e of events) {
      if (this.events.some((x) => x.installationId === e.installationId && x.eventKey === e.eventKey)) continue;
      this.events.push({ id: randomUUID(), ...e });
      inserted++;
    }
    return { inserted, invalid };
  }

  async recordBootRequests(inputs: readonly BootRequestInput[]): Promise<BatchResult> {
    this.write();
    const { requests, invalid } = normalizeBootRequests(inputs);
    let inserted = 0;
    for (const r of requests) {
      if (this.bootRequests.has(r.id)) continue;
      const { hostNamespace, hostName, ...rest } = r;
      this.bootRequests.set(r.id, { ...rest, host: hostNamespace !== null && hostName !== null ? { namespace: hostNamespace, name: hostName } : null });
      inserted++;
    }
    return { inserted, invalid };
  }

  async recordDiscovered(inputs: readonly DiscoveredMachineInput[]): Promise<void> {
    this.write();
    for (const [mac, sightings] of sightingsByMac(inputs)) {
      const prev = this.discovered.get(mac);
      this.discovered.set(mac, { id: prev?.id ?? randomUUID(), mac, ...applySightings(prev, sightings) });
    }
  }

  async recordTemplateBuildStarted(b: TemplateBuildStarted): Promise<void> {
    this.write();
    if (!isUuid(b.id)) throw new HistoryQueryError(`template build id must be a UUID: ${b.id}`);
    const id = b.id.toLowerCase();
    if (this.builds.has(id)) return;
    this.builds.set(id, {
      id,
      template: { namespace: b.template.namespace, name: b.template.name },
      version: b.version,
      vmid: b.vmid ?? null,
      node: b.node ?? null,
      checksum: null,
      startedAt: requireDate(b.startedAt, 'startedAt'),
      finishedAt: null,
      result: null,
      failureReason: null,
      taskUpid: b.taskUpid ?? null,
    });
  }

  async recordTemplateBuildFinished(f: TemplateBuildFinished): Promise<FinishOutcome> {
    this.write();
    const row = isUuid(f.id) ? this.builds.get(f.id.toLowerCase()) : undefined;
    const finishedAt = requireDate(f.finishedAt, 'finishedAt');
    if (!row) return 'not-found';
    if (row.finishedAt) return 'already-finished';
    Object.assign(row, { finishedAt, result: f.result, failureReason: clean(f.failureReason) });
    if (f.checksum !== undefined) row.checksum = f.checksum;
    if (f.vmid !== undefined) row.vmid = f.vmid;
    if (f.taskUpid !== undefined) row.taskUpid = f.taskUpid;
    return 'updated';
  }

  async getInstallation(id: string): Promise<Installation | undefined> {
    const row = isUuid(id) ? this.installations.get(id.toLowerCase()) : undefined;
    return row && copy(row);
  }

  async listInstallations(host: HostKey, page?: PageRequest): Promise<Page<Installation>> {
    const rows = [...this.installations.values()].filter((i) => i.host.namespace === host.namespace && i.host.name === host.name);
    return descPage(rows, page, (i) => [i.startedAt, i.id]);
  }

  async listInstallerEvents(installationId: string, page?: PageRequest): Promise<Page<StoredInstallerEvent>> {
    const limit = pageLimit(page);
    const c = decodeCursor(page?.cursor, 3);
    if (!isUuid(installationId)) return { items: [] };
    const key = (e: StoredInstallerEvent): [number, number, string] => [e.eventTime.getTime(), e.receivedAt.getTime(), e.id];
    const order = (a: [number, number, string], b: [number, number, string]) => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
    const rows = this.events
      .filter((e) => e.installationId === installationId.toLowerCase())
      .sort((a, b) => order(key(a), key(b)))
      .filter((e) => !c || order(key(e), [c.times[0]!.getTime(), c.times[1]!.getTime(), c.id]) > 0);
    return toPage(rows.slice(0, limit + 1).map(copy), limit, (e) => [e.eventTime.toISOString(), e.receivedAt.toISOString(), e.id]);
  }

  async listFailures(query: { since: Date; namespace?: string }, page?: PageRequest): Promise<Page<Installation>> {
    const rows = [...this.installations.values()].filter(
      (i) => i.result === 'FAIL' && i.finishReceivedAt && i.finishReceivedAt >= query.since && (query.namespace === undefined || i.host.namespace === query.namespace),
    );
    return descPage(rows, page, (i) => [i.finishReceivedAt!, i.id]);
  }

  async installStats(window: { since: Date; until?: Date }): Promise<InstallStats> {
    const since = window.since;
    const until = window.until ?? new Date();
    const rows = [...this.installations.values()].filter((i) => i.finishedAt && i.finishedAt >= since && i.finishedAt < until);
    const stat = (rs: Installation[]): Omit<TemplateStats, 'template'> => {
      const succeeded = rs.filter((r) => r.result === 'SUCCESS').length;
      const failed = rs.filter((r) => r.result === 'FAIL').length;
      const durations = rs
        .filter((r) => r.result === 'SUCCESS' && r.durationSeconds !== null)
        .map((r) => r.durationSeconds!)
        .sort((a, b) => a - b);
      return {
        total: rs.length,
        succeeded,
        failed,
        cancelled: rs.filter((r) => r.result === 'CANCELLED').length,
        successRate: succeeded + failed ? succeeded / (succeeded + failed) : null,
        p50DurationSeconds: percentileCont(durations, 0.5),
        p95DurationSeconds: percentileCont(durations, 0.95),
      };
    };
    const names = [...new Set(rows.map((r) => r.template.name))].sort((a, b) => (a ?? '').localeCompare(b ?? ''));
    return { since, until, overall: stat(rows), templates: names.map((template) => ({ template, ...stat(rows.filter((r) => r.template.name === template)) })) };
  }

  async listBootRequests(mac: string, page?: PageRequest): Promise<Page<BootRequest>> {
    const m = normalizeMac(mac);
    return descPage([...this.bootRequests.values()].filter((r) => r.mac === m), page, (r) => [r.time, r.id]);
  }

  async listDiscovered(page?: PageRequest): Promise<Page<DiscoveredMachine>> {
    return descPage([...this.discovered.values()], page, (d) => [d.lastSeen, d.id]);
  }

  async listTemplateBuilds(template: HostKey, page?: PageRequest): Promise<Page<TemplateBuild>> {
    const rows = [...this.builds.values()].filter((b) => b.template.namespace === template.namespace && b.template.name === template.name);
    return descPage(rows, page, (b) => [b.startedAt, b.id]);
  }

  async prune(olderThan: Date): Promise<PruneResult> {
    this.write();
    const before = this.events.length;
    const keep = this.events.filter((e) => e.receivedAt >= olderThan);
    this.events.splice(0, this.events.length, ...keep);
    let bootRequests = 0;
    for (const [id, r] of this.bootRequests) {
      if (r.time < olderThan) {
        this.bootRequests.delete(id);
        bootRequests++;
      }
    }
    return { installerEvents: before - keep.length, bootRequests };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
