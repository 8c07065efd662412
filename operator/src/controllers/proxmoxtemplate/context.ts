// What every ProxmoxTemplate phase handler works on: the object, the status draft it changes, the ports and the PVE
// API. Handlers say what happens next: a ReconcileResult ends this reconcile, NEXT runs the handler of the phase they
// entered in the same reconcile. Cleanup, bookkeeping and the handlers import this file; it imports none of them.
import { PROXMOXTEMPLATE_CONDITIONS, type ProxmoxTemplate, type ProxmoxTemplatePhase, type ProxmoxTemplateStatus } from '@anvil/core/api';
import { setCondition, type ConditionInput } from '@anvil/core/conditions';
import type { ProxmoxApi } from '../../proxmox/ports.js';
import type { ReconcileResult } from '../../runtime/result.js';
import type { TemplateControllerConfig, TemplatePorts } from './ports.js';

export const C = PROXMOXTEMPLATE_CONDITIONS;

export interface TemplateContext {
  readonly template: ProxmoxTemplate;
  status: ProxmoxTemplateStatus;
  readonly now: Date;
  readonly ports: TemplatePorts;
  readonly config: TemplateControllerConfig;
  /** Set by the runner once connected; in a context from templateContext, reading it before that throws. */
  api: ProxmoxApi;
}

/**
 * A context for one reconcile, before it connects to PVE: `api` is set once connected, and a handler that reads it
 * earlier gets an error, not undefined.
 */
export function templateContext(fields: Omit<TemplateContext, 'api'>): TemplateContext {
  let api: ProxmoxApi | undefined;
  return {
    ...fields,
    get api(): ProxmoxApi {
      if (!api) throw new Error(`ProxmoxTemplate ${fields.template.metadata.namespace}/${fields.template.metadata.name}: the PVE API was used before connecting`);
      return api;
    },
    set api(connected: ProxmoxApi) {
      api = connected;
    },
  };
}

/** The runner's own variant: the handler changed the phase, and the next handler runs in the same reconcile. */
export const NEXT = 'next' as const;
export type PhaseStep = ReconcileResult | typeof NEXT;
export type PhaseHandler = (ctx: TemplateContext) => Promise<PhaseStep>;

export function condition(ctx: TemplateContext, input: ConditionInput): void {
  ctx.status.conditions = setCondition(ctx.status.conditions, input, ctx.template.metadata.generation, ctx.now);
}

export function enter(ctx: TemplateContext, phase: ProxmoxTemplatePhase): typeof NEXT {
  ctx.status.phase = phase;
  return NEXT;
}

export const generationChanged = (ctx: TemplateContext): boolean => ctx.template.metadata.generation !== ctx.status.observedGeneration;

/** A pin holds the template at a kept version: nothing new is built until it is removed. */
export const pinned = (ctx: TemplateContext): boolean => ctx.template.spec.versions?.pin !== undefined;

/** The storage images are downloaded to (content type import). */
export const importStorage = (t: ProxmoxTemplate): string => t.spec.vm?.importStorage ?? 'local';
