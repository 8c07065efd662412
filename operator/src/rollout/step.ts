// One step of a template's rollout: the table of phase handlers. A new desired revision supersedes whatever the
// rollout was doing (a fixed template after a halt, a manual rollback to a kept revision) and starts from Idle.
import { awaitingApproval } from './phases/awaiting-approval.js';
import { awaitingWindow } from './phases/awaiting-window.js';
import { idle } from './phases/idle.js';
import { paused } from './phases/paused.js';
import { rollingBack } from './phases/rolling-back.js';
import { rolling } from './phases/rolling.js';
import { terminal } from './phases/terminal.js';
import { idleStatus, type PhaseHandler, type RolloutPhase, type RolloutSnapshot, type RolloutStatus, type StepOutcome } from './types.js';

export const PHASE_HANDLERS: Readonly<Record<RolloutPhase, PhaseHandler>> = {
  Idle: idle,
  AwaitingApproval: awaitingApproval,
  AwaitingWindow: awaitingWindow,
  Rolling: rolling,
  Paused: paused,
  Completed: terminal,
  RollingBack: rollingBack,
  RolledBack: terminal,
  RollbackFailed: terminal,
};

export function step(snap: RolloutSnapshot, current: RolloutStatus | undefined): StepOutcome {
  let status = current ?? idleStatus();
  if (status.phase !== 'Idle' && status.targetRevision !== snap.desiredRevision) {
    status = { ...idleStatus(), rollbacks: status.rollbacks, ...(status.previousRevision ? { previousRevision: status.previousRevision } : {}) };
  }
  return PHASE_HANDLERS[status.phase](snap, status);
}
