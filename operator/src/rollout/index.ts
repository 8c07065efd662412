// Safe updates (issue 26): the diff gate, maintenance windows and the rollout state machine, as pure functions the
// rollout controller (operator/src/controllers/rollout) drives; see docs/updates.md.
export { CHANGE_CLASSES, changedParts, classifyChange, highestOf, type ChangeClass, type ChangedPart, type InstallPayload } from './change-classes.js';
export { classifyRelease, releaseNumbers, type ReleaseClass } from './release-classes.js';
export { gateVerdict, type GateInput, type GatePolicy, type GateVerdict } from './gate.js';
export { inAnyWindow, nextOpening, nextWindowStart, openWindowStart, windowProblem, type MaintenanceWindow } from './maintenance-window.js';
export { PHASE_HANDLERS, step } from './step.js';
export { ROLLOUT_PHASES, idleStatus, type AuditRecord, type HostView, type RolloutAction, type RolloutPolicy, type RolloutSnapshot, type RolloutStatus, type StepOutcome } from './types.js';
export { describeCheck, probe, probeHttp, probeTcp, type HealthCheck, type ProbeResult } from './health/probes.js';
export { applyProbes, startHealth, type HealthPolicy, type HealthState, type HealthStep } from './health/verdict.js';
