// What the dashboard API answers (dashboard/src/server: host-rows.ts, host-detail.ts), as the page reads it.
export interface HostRow {
  namespace: string;
  name: string;
  state: string;
  phase: string | null;
  progress: string | null;
  template: string | null;
  revision: number | null;
  attempt: number | null;
  power: string | null;
  lastBootRequest: { time: string; served: string | null } | null;
  createdAt: string | null;
  labels: Record<string, string>;
  resourceVersion: string | null;
}

export interface HostPage {
  items: HostRow[];
  total: number;
  offset: number;
  limit: number;
  counts: Record<string, number>;
  namespaces: string[];
  username: string;
}

export interface Phase {
  name: string;
  label: string;
  parent: number | null;
  depth: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationSeconds: number | null;
  result: string | null;
  description: string | null;
  finishDescription: string | null;
  closedBy: string | null;
}

export interface Installation {
  id: string;
  revision: number;
  attempt: number;
  startedAt: string;
  finishedAt: string | null;
  result: string | null;
  durationSeconds: number | null;
  failureReason: string | null;
  failureMessage: string | null;
  failureStage: string | null;
  template: { name: string | null };
}

export interface AttemptView {
  installation: Installation;
  current: boolean;
  phases: Phase[];
  failedPhase: number | null;
  eventCount: number;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface HostDetail {
  host: HostRow;
  spec: {
    bootMACAddress: string;
    architecture: string | null;
    templateRef: string | null;
    provisioning: { revision: number | null };
    online: boolean | null;
    powerControl: boolean;
    secretRefs: { variable: string; secret: string; key: string | null }[];
  };
  status: {
    state?: string;
    conditions?: Condition[];
    errorMessage?: string;
    currentInstall?: { attempt: number; revision: number; startedAt: string; phase?: string; progress?: string; finishedAt?: string; result?: string; failure?: { stage: string; reason: string }; template?: { name: string; contentHash: string; revision?: number } };
    discovery?: { firstSeen?: string; clientIP?: string; arch?: string; platform?: string; manufacturer?: string; product?: string; serial?: string; uuid?: string; asset?: string };
    recentInstalls?: { attempt: number; revision: number; startedAt: string; finishedAt?: string; result?: string; durationSeconds?: number; reason?: string; failedStage?: string; message?: string; template?: { name: string; contentHash: string; revision?: number } }[];
  };
  history: 'available' | 'unavailable' | 'error';
  historyMessage?: string;
  attempts: AttemptView[];
  bootRequests: { id: string; time: string; clientIp: string; path: string; served: string }[];
  actions: HostActions;
}

export type HostAction = 'reinstall' | 'reboot' | 'accept';

/** What the host view may offer: allowed (RBAC patch on the host), why an action is not possible, templates to accept with. */
export interface HostActions {
  allowed: boolean;
  unavailable: Partial<Record<HostAction, string>>;
  templates: string[];
}

export const STATES = ['Pending', 'Discovered', 'Ready', 'Provisioning', 'Installing', 'Provisioned', 'Failed', 'Deleting'] as const;
