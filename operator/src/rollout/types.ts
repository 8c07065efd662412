// The rollout's model: what a policy asks for, what the machine sees of each host, what it records, and what it asks
// the controller to do. The phases (phases/) are pure functions of these: the controller reads the hosts, runs a step,
// writes the status and carries out the actions, so every decision is testable without a cluster.
import type { GateVerdict } from './gate.js';
import type { MaintenanceWindow } from './maintenance-window.js';

export interface RolloutPolicy {
  /** Hosts per wave (at least 1). */
  batchSize: number;
  /** Seconds to wait between a verified wave and the next. */
  pauseSeconds: number;
  /** Waves start only inside one of these; none means any time. */
  windows: readonly MaintenanceWindow[];
  /** Failed hosts in one wave that halt the rollout and roll them back (at least 1). */
  failureThreshold: number;
  /** Seconds a host of a wave may take from its install start to a health verdict before it counts as failed. */
  healthTimeoutSeconds: number;
  /** Rollbacks of one host allowed within rollbackWindowSeconds before the rollout stops for a person. */
  maxRollbacks: number;
  rollbackWindowSeconds: number;
}

/** One host as the rollout sees it. */
export interface HostView {
  /** namespace/name */
  key: string;
  /** The revision the host was last installed with (or is installing). */
  revision?: string;
  /** installing: an install of `revision` runs; installed: it finished; failed: it failed. */
  install: 'none' | 'installing' | 'installed' | 'failed';
  /** The health checks after the install: pending until they pass, fail or time out. */
  health: 'pending' | 'passed' | 'failed';
  /** When the current install started (ISO 8601). */
  installStartedAt?: string;
}

export const ROLLOUT_PHASES = ['Idle', 'AwaitingApproval', 'AwaitingWindow', 'Rolling', 'Paused', 'Completed', 'RollingBack', 'RolledBack', 'RollbackFailed'] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

export interface RolloutStatus {
  phase: RolloutPhase;
  /** The revision being rolled out, and the one hosts had before (what a rollback installs). */
  targetRevision?: string;
  previousRevision?: string;
  /** Host keys per wave, fixed when the rollout starts. */
  waves: string[][];
  /** Index of the current wave. */
  wave: number;
  /** When the current wave started, or when the pause after it ends. */
  waveStartedAt?: string;
  pauseUntil?: string;
  /** Hosts of the current rollout that failed (installed and unhealthy, or their install failed or timed out). */
  failedHosts: string[];
  /** Rollback times per host (ISO 8601), for loop prevention. */
  rollbacks: Record<string, string[]>;
  message: string;
}

export type RolloutAction =
  | { kind: 'install'; host: string; revision: string }
  | { kind: 'alert'; reason: string; message: string };

/** A decision worth keeping: recorded in the install history, emitted as an Event and counted. */
export interface AuditRecord {
  type: 'GateVerdict' | 'WaveStarted' | 'WaveVerified' | 'HostUnhealthy' | 'RolloutHalted' | 'RollbackStarted' | 'RolledBack' | 'RollbackFailed' | 'RolloutCompleted';
  message: string;
  hosts?: string[];
}

export interface RolloutSnapshot {
  now: Date;
  policy: RolloutPolicy;
  /** The revision the template is at now (content hash). */
  desiredRevision: string;
  /** The gate's verdict for desiredRevision against what hosts run. */
  gate: GateVerdict;
  /** Hosts that follow this template automatically, in a stable order. */
  hosts: readonly HostView[];
}

export interface StepOutcome {
  status: RolloutStatus;
  actions: RolloutAction[];
  audit: AuditRecord[];
  /** When to look again at the latest, in ms (a pause ending, a window opening, a health timeout). */
  requeueAfterMs?: number;
}

export type PhaseHandler = (snap: RolloutSnapshot, status: RolloutStatus) => StepOutcome;

export const idleStatus = (): RolloutStatus => ({ phase: 'Idle', waves: [], wave: 0, failedHosts: [], rollbacks: {}, message: '' });
