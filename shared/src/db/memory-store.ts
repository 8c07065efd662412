// An in-memory HistoryStore with the same semantics as the SQL one (idempotent writes, keyset pages, stats), for
// unit tests of the operator, the boot-server and the API. The conformance suite (testing/conformance.ts) runs
// against both. `failNext(err)` makes the next write throw, to test callers' retry paths.
import { randomUUID } from 'node:crypto';
import { normalizeMac } from '../bootconfig/boot-config.js';
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
  RolloutDecision,
  RolloutDecisionInput,
  StoredInstallerEvent,
  TemplateBuild,
  TemplateBuildFinished,
  TemplateBuildStarted,
} from './history-store.js';
import { applySightings, sightingsByMac } from './discovery.js';
import { decisionRow } from './sql/rollout-decisions.js';
import { bootRequestsNewestFirst, buildsNewestFirst, decisionsNewestFirst, discoveredLatestFirst, eventsInTimeOrder, failuresNewestFirst, installationsNewestFirst } from './list-orders.js';
import { finishInstallation, newInstallation } from './memory/installations.js';
import { installStats } from './memory/stats.js';
import { pageOfItems, type Keyset } from './paging.js';
import { buildFinishColumns, HistoryQueryError, isUuid, normalizeBootRequests, normalizeEvents, requireDate, toBootRequest, toDate } from './store-util.js';

const copy = <T>(x: T): T => structuredClone(x);

/** A page of copies: callers cannot change the store through what it returns. */
function pageOf<T>(items: readonly T[], page: PageRequest | undefined, order: Keyset<T>): Page<T> {
  const p = pageOfItems(items, page, order);
  return { ...p, items: p.items.map(copy) };
}

export class MemoryHistoryStore implements HistoryStore {
  readonly describe = 'in memory';
  readonly installations = new Map<string, Installation>();
  readonly events: StoredInstallerEvent[] = [];
  readonly bootRequests = new Map<string, BootRequest>();
  readonly discovered = new Map<string, DiscoveredMachine>();
  readonly builds = new Map<string, TemplateBuild>();
  readonly decisions = new Map<string, RolloutDecision>();
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
    if (!this.installations.has(id)) this.installations.set(id, newInstallation(id, i, startedAt));
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
    finishInstallation(row, f, { finishedAt, receivedAt }, this.events.filter((e) => e.installationId === row.id));
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
      this.bootRequests.set(r.id, toBootRequest(r));
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
    Object.assign(row, buildFinishColumns(f, finishedAt));
    return 'updated';
  }

  async recordRolloutDecisions(decisions: readonly RolloutDecisionInput[]): Promise<void> {
    this.write();
    const rows = decisions.map(decisionRow);
    for (const r of rows) {
      if (this.decisions.has(r.id)) continue;
      this.decisions.set(r.id, { id: r.id, template: { namespace: r.templateNamespace, name: r.templateName }, time: r.time, type: r.type, message: r.message, revision: r.revision ?? null, hosts: [...r.hosts], trigger: r.trigger });
    }
  }

  async getInstallation(id: string): Promise<Installation | undefined> {
    const row = isUuid(id) ? this.installations.get(id.toLowerCase()) : undefined;
    return row && copy(row);
  }

  async listInstallations(host: HostKey, page?: PageRequest): Promise<Page<Installation>> {
    const rows = [...this.installations.values()].filter((i) => i.host.namespace === host.namespace && i.host.name === host.name);
    return pageOf(rows, page, installationsNewestFirst);
  }

  async listInstallerEvents(installationId: string, page?: PageRequest): Promise<Page<StoredInstallerEvent>> {
    const id = isUuid(installationId) ? installationId.toLowerCase() : undefined;
    return pageOf(id ? this.events.filter((e) => e.installationId === id) : [], page, eventsInTimeOrder);
  }

  async listFailures(query: { since: Date; namespace?: string }, page?: PageRequest): Promise<Page<Installation>> {
    const rows = [...this.installations.values()].filter(
      (i) => i.result === 'FAIL' && i.finishReceivedAt && i.finishReceivedAt >= query.since && (query.namespace === undefined || i.host.namespace === query.namespace),
    );
    return pageOf(rows, page, failuresNewestFirst);
  }

  async installStats(window: { since: Date; until?: Date }): Promise<InstallStats> {
    return installStats(this.installations.values(), window);
  }

  async listBootRequests(mac: string, page?: PageRequest): Promise<Page<BootRequest>> {
    const m = normalizeMac(mac);
    return pageOf([...this.bootRequests.values()].filter((r) => r.mac === m), page, bootRequestsNewestFirst);
  }

  async listDiscovered(page?: PageRequest): Promise<Page<DiscoveredMachine>> {
    return pageOf([...this.discovered.values()], page, discoveredLatestFirst);
  }

  async listTemplateBuilds(template: HostKey, page?: PageRequest): Promise<Page<TemplateBuild>> {
    const rows = [...this.builds.values()].filter((b) => b.template.namespace === template.namespace && b.template.name === template.name);
    return pageOf(rows, page, buildsNewestFirst);
  }

  async listRolloutDecisions(template: HostKey, page?: PageRequest): Promise<Page<RolloutDecision>> {
    const rows = [...this.decisions.values()].filter((d) => d.template.namespace === template.namespace && d.template.name === template.name);
    return pageOf(rows, page, decisionsNewestFirst);
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
