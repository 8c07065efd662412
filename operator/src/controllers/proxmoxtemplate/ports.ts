// What the ProxmoxTemplate controller needs from the outside world. kube-ports.ts implements it on the API server
// (Secrets, events, the install history, metrics); tests give it the Proxmox simulator and a fake upstream.
import type { ProxmoxTemplate } from '@anvil/core/api';
import type { FetchText } from '../../proxmox/catalog.js';
import type { ProxmoxApi } from '../../proxmox/ports.js';

/** A configuration problem the user must fix (missing Secret, bad token shape): reported in status, retried slowly. */
export class TemplateConfigError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = 'TemplateConfigError';
  }
}

export interface BuildRecord {
  id: string;
  namespace: string;
  name: string;
  version: number;
  vmid?: number;
  node: string;
  startedAt: Date;
}

export interface BuildOutcome {
  id: string;
  result: 'SUCCESS' | 'FAIL' | 'CANCELLED';
  finishedAt: Date;
  checksum?: string;
  vmid?: number;
  taskUpid?: string;
  failureReason?: string;
}

/** The install history's record of template builds. Without a database the records go nowhere (status still lists versions). */
export interface BuildHistory {
  started(build: BuildRecord): Promise<void>;
  finished(outcome: BuildOutcome): Promise<void>;
}

export interface TemplatePorts {
  /** The PVE API for the template's spec.connection (token and CA from Secrets); reused while they stay the same. */
  connect(template: ProxmoxTemplate): Promise<ProxmoxApi>;
  /** Drops the cached client of a deleted template. */
  forget(template: ProxmoxTemplate): Promise<void>;
  /** The cloud-init password from spec.cloudInit.passwordSecretRef, or undefined if none is referenced. */
  cloudInitPassword(template: ProxmoxTemplate): Promise<string | undefined>;
  /** Reads a checksum file (http/https). */
  fetchText: FetchText;
  history: BuildHistory;
  event(template: ProxmoxTemplate, type: 'Normal' | 'Warning', reason: string, note: string): void;
  /** A PVE task ended after `seconds` (anvil_proxmox_task_duration_seconds). */
  taskFinished(taskType: string, ok: boolean, seconds: number): void;
}

export interface TemplateControllerConfig {
  /** How often a running PVE task is polled. */
  taskPollMs: number;
  /** Lower bound of spec.source.checkIntervalSeconds. */
  minCheckIntervalMs: number;
  /** First retry of a Failed build; doubles per failure up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long deleting a VM or a volume may take before the reconcile gives up and retries. */
  cleanupTaskTimeoutMs: number;
  /** Oldest PVE release anvil supports (download-url with content=import arrived in 8.3). */
  minPveRelease: [number, number];
}

export const defaultTemplateControllerConfig: TemplateControllerConfig = {
  taskPollMs: 2_000,
  minCheckIntervalMs: 300_000,
  retryBaseMs: 60_000,
  retryMaxMs: 3_600_000,
  cleanupTaskTimeoutMs: 300_000,
  minPveRelease: [8, 3],
};
