// What every BareMetalHost state handler works on (the host, its status draft, the ports) and the small helpers they
// share to read the spec and write status: conditions, state transitions (with an event), errors.
import type { BareMetalHost, BareMetalHostErrorType, BareMetalHostState, BareMetalHostStatus } from '@anvil/core/api';
import { setCondition, type ConditionInput } from '@anvil/core/conditions';
import type { ReconcileResult } from '../../runtime/result.js';
import type { HostPorts, StateMachineConfig } from './ports.js';

export { DISCOVERED_LABEL } from '@anvil/core/api';

export interface HostContext {
  readonly host: BareMetalHost;
  status: BareMetalHostStatus;
  readonly now: Date;
  readonly ports: HostPorts;
  readonly config: StateMachineConfig;
}

/** One state's handler: reads the host, changes the status draft, publishes through the ports, says what comes next. */
export type StateHandler = (ctx: HostContext) => Promise<ReconcileResult>;

export const hostRef = (h: BareMetalHost): string => `${h.metadata.namespace}/${h.metadata.name}`;
export const revisionOf = (h: BareMetalHost): number => h.spec.provisioning?.revision ?? 0;
export const allowed = (h: BareMetalHost): boolean => h.spec.provisioning?.allowed ?? true;
export const timeoutMs = (h: BareMetalHost): number => (h.spec.provisioning?.timeoutSeconds ?? 3600) * 1000;
export const maxRetries = (h: BareMetalHost): number => h.spec.provisioning?.maxRetries ?? 3;

/** How long a host that cannot be installed yet (invalid, render failing) waits before it is checked again. */
export const RECHECK_INVALID_MS = 60_000;

export function condition(ctx: HostContext, input: ConditionInput): void {
  ctx.status.conditions = setCondition(ctx.status.conditions, input, ctx.host.metadata.generation, ctx.now);
}

export function transition(ctx: HostContext, next: BareMetalHostState, note: string, type: 'Normal' | 'Warning' = 'Normal'): void {
  if (ctx.status.state === next) return;
  ctx.status.state = next;
  ctx.ports.event(ctx.host, type, next, note);
}

export function setError(ctx: HostContext, errorType: BareMetalHostErrorType, message: string): void {
  const changed = ctx.status.errorMessage !== message || ctx.status.errorType !== errorType;
  ctx.status.errorType = errorType;
  ctx.status.errorMessage = message;
  if (changed) ctx.status.errorCount = (ctx.status.errorCount ?? 0) + 1;
}

export function clearError(ctx: HostContext): void {
  delete ctx.status.errorType;
  ctx.status.errorMessage = '';
  ctx.status.errorCount = 0;
}
