// AwaitingApproval: the gate asked for a person; the rollout goes on once the revision is approved.
import type { PhaseHandler } from '../types.js';
import { planWaves, stay } from '../waves.js';
import { awaitingWindow } from './awaiting-window.js';

export const awaitingApproval: PhaseHandler = (snap, status) => {
  if (snap.gate.verdict !== 'allowed') return stay({ ...status, message: snap.gate.reason });
  const waves = planWaves(snap.hosts, snap.desiredRevision, snap.policy.batchSize);
  const after = awaitingWindow(snap, { ...status, phase: 'AwaitingWindow', waves, wave: 0 });
  return { ...after, audit: [{ type: 'GateVerdict', message: `revision ${snap.desiredRevision}: ${snap.gate.reason}` }, ...after.audit] };
};
