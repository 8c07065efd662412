// HistoryStore over SQL (PostgreSQL, CockroachDB or PGlite, through the SqlDatabase port). Every call runs in
// SERIALIZABLE transactions retried on 40001 with exponential backoff and jitter; batches are written in chunks of
// at most CHUNK rows, one transaction each. One module per concern in sql/: installations, installer events, boot
// requests, discovered machines, template builds, statistics, pruning.
import type { Logger } from '../logging.js';
import type { Db, SqlDatabase } from './database.js';
import type * as api from './history-store.js';
import { withSerializableRetry, type RetryOptions } from './retry.js';
import { recordBootRequests, listBootRequests } from './sql/boot-requests.js';
import type { SqlContext } from './sql/context.js';
import { recordDiscovered, listDiscovered } from './sql/discovered.js';
import { recordInstallerEvents, listInstallerEvents } from './sql/installer-events.js';
import { getInstallation, listFailures, listInstallations, recordInstallFinished, recordInstallStarted, recordInstallsStarted } from './sql/installations.js';
import { prune } from './sql/prune.js';
import { installStats } from './sql/stats.js';
import { listTemplateBuilds, recordTemplateBuildFinished, recordTemplateBuildStarted } from './sql/template-builds.js';
import { listRolloutDecisions, recordRolloutDecisions } from './sql/rollout-decisions.js';

export { CHUNK } from './sql/context.js';
export { PRUNE_CHUNK } from './sql/prune.js';

export interface SqlHistoryStoreOptions {
  log?: Logger;
  retry?: RetryOptions;
}

export class SqlHistoryStore implements api.HistoryStore {
  private retries = 0;
  private readonly ctx: SqlContext;

  constructor(
    private readonly db: SqlDatabase,
    private readonly opts: SqlHistoryStoreOptions = {},
  ) {
    this.ctx = { tx: (fn, readOnly) => this.tx(fn, readOnly), log: opts.log };
  }

  get describe(): string {
    return this.db.describe;
  }

  retryCount(): number {
    return this.retries;
  }

  private tx<T>(fn: (tx: Db) => Promise<T>, readOnly = false): Promise<T> {
    return withSerializableRetry(() => this.db.transaction(fn, { readOnly }), {
      ...this.opts.retry,
      onRetry: (err, attempt, delayMs) => {
        this.retries++;
        this.opts.log?.debug({ attempt, delayMs, err: err instanceof Error ? err.message : String(err) }, 'history transaction: serialization failure, retrying');
        this.opts.retry?.onRetry?.(err, attempt, delayMs);
      },
    });
  }

  recordInstallStarted(i: api.InstallStarted): Promise<void> {
    return recordInstallStarted(this.ctx, i);
  }

  recordInstallsStarted(inputs: readonly api.InstallStarted[]): Promise<api.BatchResult> {
    return recordInstallsStarted(this.ctx, inputs);
  }

  recordInstallFinished(f: api.InstallFinished): Promise<api.FinishOutcome> {
    return recordInstallFinished(this.ctx, f);
  }

  recordInstallerEvents(inputs: readonly api.InstallerEventInput[]): Promise<api.BatchResult> {
    return recordInstallerEvents(this.ctx, inputs);
  }

  recordBootRequests(inputs: readonly api.BootRequestInput[]): Promise<api.BatchResult> {
    return recordBootRequests(this.ctx, inputs);
  }

  recordDiscovered(inputs: readonly api.DiscoveredMachineInput[]): Promise<void> {
    return recordDiscovered(this.ctx, inputs);
  }

  recordTemplateBuildStarted(b: api.TemplateBuildStarted): Promise<void> {
    return recordTemplateBuildStarted(this.ctx, b);
  }

  recordTemplateBuildFinished(f: api.TemplateBuildFinished): Promise<api.FinishOutcome> {
    return recordTemplateBuildFinished(this.ctx, f);
  }

  recordRolloutDecisions(decisions: readonly api.RolloutDecisionInput[]): Promise<void> {
    return recordRolloutDecisions(this.ctx, decisions);
  }

  getInstallation(id: string): Promise<api.Installation | undefined> {
    return getInstallation(this.ctx, id);
  }

  listInstallations(host: api.HostKey, page?: api.PageRequest): Promise<api.Page<api.Installation>> {
    return listInstallations(this.ctx, host, page);
  }

  listInstallerEvents(installationId: string, page?: api.PageRequest): Promise<api.Page<api.StoredInstallerEvent>> {
    return listInstallerEvents(this.ctx, installationId, page);
  }

  listFailures(query: { since: Date; namespace?: string }, page?: api.PageRequest): Promise<api.Page<api.Installation>> {
    return listFailures(this.ctx, query, page);
  }

  installStats(window: { since: Date; until?: Date }): Promise<api.InstallStats> {
    return installStats(this.ctx, window);
  }

  listBootRequests(mac: string, page?: api.PageRequest): Promise<api.Page<api.BootRequest>> {
    return listBootRequests(this.ctx, mac, page);
  }

  listDiscovered(page?: api.PageRequest): Promise<api.Page<api.DiscoveredMachine>> {
    return listDiscovered(this.ctx, page);
  }

  listTemplateBuilds(template: api.HostKey, page?: api.PageRequest): Promise<api.Page<api.TemplateBuild>> {
    return listTemplateBuilds(this.ctx, template, page);
  }

  listRolloutDecisions(template: api.HostKey, page?: api.PageRequest): Promise<api.Page<api.RolloutDecision>> {
    return listRolloutDecisions(this.ctx, template, page);
  }

  prune(olderThan: Date): Promise<api.PruneResult> {
    return prune(this.ctx, olderThan);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
