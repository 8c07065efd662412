// The ProxmoxTemplate reconciler: the generic status reconcile (pause, finalizer, observedGeneration, a status patch
// with only what changed) around one run of the phase table. On deletion the templates it built are removed (unless
// retainPolicy is Retain) before the finalizer goes.
import type { Logger } from 'pino';
import { AnvilResources, PAUSED_ANNOTATION, type ProxmoxTemplate, type ProxmoxTemplateStatus } from '@anvil/core/api';
import type { CacheReader, KubeClient, KubeObject, ResourceType } from '@anvil/core/kube';
import { done, requeueAfter, requeueWithBackoff, type ReconcileResult } from '../../runtime/result.js';
import { StatusReconciler, type StatusKind } from '../../runtime/status-reconciler.js';
import { ProxmoxError } from '../../proxmox/errors.js';
import { deleteEverything } from './cleanup.js';
import { templateContext, type TemplateContext } from './context.js';
import { defaultTemplateControllerConfig, TemplateConfigError, type TemplateControllerConfig, type TemplatePorts } from './ports.js';
import { runTemplatePhases } from './runner.js';

export const ProxmoxTemplateType: ResourceType = AnvilResources.proxmoxTemplate;
export const TEMPLATE_FINALIZER = 'anvil.dev/proxmoxtemplate';

export interface ProxmoxTemplateReconcilerDeps {
  client: KubeClient;
  templates: CacheReader<ProxmoxTemplate>;
  ports: TemplatePorts;
  log: Logger;
  config?: Partial<TemplateControllerConfig>;
  now?: () => Date;
}

/**
 * Decisions are made on what was read (a conflict reconciles again on fresh data), and a reconcile that follows its
 * own write at once reads the object from the API server when the informer has not caught up yet: deciding on that
 * stale copy could start a PVE task twice.
 */
export class ProxmoxTemplateReconciler extends StatusReconciler<ProxmoxTemplate, ProxmoxTemplateStatus> {
  constructor(deps: ProxmoxTemplateReconcilerDeps) {
    super({
      client: deps.client,
      type: AnvilResources.proxmoxTemplate,
      cache: deps.templates,
      kind: new TemplateBuilds(deps),
      finalizer: TEMPLATE_FINALIZER,
      rebaseOnConflict: false,
      readAfterOwnWrite: true,
    });
  }
}

class TemplateBuilds implements StatusKind<ProxmoxTemplate, ProxmoxTemplateStatus> {
  private readonly config: TemplateControllerConfig;

  constructor(private readonly deps: ProxmoxTemplateReconcilerDeps) {
    const given = Object.fromEntries(Object.entries(deps.config ?? {}).filter(([, v]) => v !== undefined));
    this.config = { ...defaultTemplateControllerConfig, ...given };
  }

  async observe(template: ProxmoxTemplate, status: ProxmoxTemplateStatus): Promise<ReconcileResult> {
    const result = await runTemplatePhases(this.context(template, status));
    if (result.kind === 'requeueWithBackoff') this.deps.log.debug({ template: `${template.metadata.namespace}/${template.metadata.name}`, message: status.message }, 'retrying with backoff');
    return result;
  }

  async finalize(template: ProxmoxTemplate, status: ProxmoxTemplateStatus): Promise<ReconcileResult> {
    const { ports } = this.deps;
    status.phase = 'Deleting';
    const ctx = this.context(template, status);
    if (template.spec.retainPolicy === 'Retain') {
      const kept = (status.versions ?? []).map((v) => `v${v.version} (VMID ${v.vmid})`).join(', ') || 'none';
      ports.event(template, 'Normal', 'TemplatesRetained', `retainPolicy is Retain: templates left on Proxmox: ${kept}`);
      if (status.build) await ports.history.finished({ id: status.build.id, result: 'CANCELLED', finishedAt: ctx.now, failureReason: 'the ProxmoxTemplate was deleted' });
    } else {
      const result = await this.deleteTemplates(ctx);
      if (result.kind !== 'done') return result;
      ports.event(template, 'Normal', 'TemplatesDeleted', 'the templates and images this object built were removed from Proxmox');
    }
    await ports.forget(template);
    return done();
  }

  /** Deletion errors stay in status with a way out: a PVE that cannot be reached would otherwise block deletion forever. */
  private async deleteTemplates(ctx: TemplateContext): Promise<ReconcileResult> {
    const way = 'set spec.retainPolicy to Retain to delete the object and leave the templates on Proxmox';
    try {
      ctx.api = await this.deps.ports.connect(ctx.template);
      return await deleteEverything(ctx);
    } catch (err) {
      if (!(err instanceof ProxmoxError) && !(err instanceof TemplateConfigError)) throw err;
      ctx.status.message = `cannot remove the templates yet: ${err.message}; ${way}`;
      this.deps.ports.event(ctx.template, 'Warning', 'DeleteFailed', ctx.status.message);
      return err instanceof ProxmoxError && err.transient ? requeueWithBackoff() : requeueAfter(this.config.retryBaseMs);
    }
  }

  private context(template: ProxmoxTemplate, status: ProxmoxTemplateStatus): TemplateContext {
    return templateContext({ template, status, now: this.deps.now?.() ?? new Date(), ports: this.deps.ports, config: this.config });
  }
}

/** Our own status writes do not need a reconcile; spec, metadata and deletion do. */
export function templateChangeMatters(oldObj: KubeObject, newObj: KubeObject): boolean {
  return (
    oldObj.metadata.generation !== newObj.metadata.generation ||
    oldObj.metadata.deletionTimestamp !== newObj.metadata.deletionTimestamp ||
    oldObj.metadata.annotations?.[PAUSED_ANNOTATION] !== newObj.metadata.annotations?.[PAUSED_ANNOTATION] ||
    JSON.stringify(oldObj.metadata.finalizers ?? []) !== JSON.stringify(newObj.metadata.finalizers ?? [])
  );
}
