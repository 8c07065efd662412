// The ProxmoxTemplate reconciler: finalizer and pause handling, one run of the phase table, then a status patch with
// only what changed. On deletion the templates it built are removed (unless retainPolicy is Retain) before the
// finalizer goes.
import type { Logger } from 'pino';
import { GROUP, PAUSED_ANNOTATION, PROXMOXTEMPLATE_KIND, PROXMOXTEMPLATE_PLURAL, VERSION, type ProxmoxTemplate } from '../../../../shared/src/api/index.js';
import type { CacheReader } from '../../../../shared/src/kube/cache.js';
import type { KubeClient, KubeObject, ResourceType } from '../../../../shared/src/kube/index.js';
import { addFinalizer, hasFinalizer, removeFinalizer } from '../../runtime/finalizers.js';
import { PatchHelper } from '../../runtime/patch-helper.js';
import type { Reconciler, Request } from '../../runtime/reconciler.js';
import { done, requeueAfter, requeueWithBackoff, type ReconcileResult } from '../../runtime/result.js';
import type { ProxmoxApi } from '../../proxmox/ports.js';
import { ProxmoxError } from '../../proxmox/errors.js';
import { deleteEverything } from './cleanup.js';
import type { TemplateContext } from './context.js';
import { defaultTemplateControllerConfig, TemplateConfigError, type TemplateControllerConfig, type TemplatePorts } from './ports.js';
import { runTemplatePhases } from './runner.js';

export const ProxmoxTemplateType: ResourceType = { group: GROUP, version: VERSION, kind: PROXMOXTEMPLATE_KIND, plural: PROXMOXTEMPLATE_PLURAL, namespaced: true };
export const TEMPLATE_FINALIZER = 'anvil.dev/proxmoxtemplate';

type Template = ProxmoxTemplate & KubeObject;

export interface ProxmoxTemplateReconcilerDeps {
  client: KubeClient;
  templates: CacheReader<Template>;
  ports: TemplatePorts;
  log: Logger;
  config?: Partial<TemplateControllerConfig>;
  now?: () => Date;
}

export class ProxmoxTemplateReconciler implements Reconciler {
  private readonly config: TemplateControllerConfig;
  /**
   * Per object, the resourceVersion our last status write replaced. A reconcile that follows its own write at once
   * may find the informer not caught up yet; deciding on that stale copy could start a PVE task twice, so it reads
   * the object from the API server instead.
   */
  private readonly replaced = new Map<string, string>();

  constructor(private readonly deps: ProxmoxTemplateReconcilerDeps) {
    const given = Object.fromEntries(Object.entries(deps.config ?? {}).filter(([, v]) => v !== undefined));
    this.config = { ...defaultTemplateControllerConfig, ...given };
  }

  async reconcile(req: Request): Promise<ReconcileResult> {
    const { client, templates } = this.deps;
    const key = `${req.namespace}/${req.name}`;
    let cached = templates.get(req.namespace, req.name);
    if (cached && cached.metadata.resourceVersion === this.replaced.get(key)) {
      cached = await client.get<Template>(ProxmoxTemplateType, { namespace: req.namespace, name: req.name });
    }
    this.replaced.delete(key);
    if (!cached) return done();
    if (cached.metadata.annotations?.[PAUSED_ANNOTATION] === 'true') return done();
    let template = structuredClone(cached);
    if (template.metadata.deletionTimestamp) return this.finalize(template);
    if (!hasFinalizer(template, TEMPLATE_FINALIZER)) template = await addFinalizer(client, ProxmoxTemplateType, template, TEMPLATE_FINALIZER);

    const draft = structuredClone(template);
    draft.status ??= {};
    const ctx = this.context(template, draft.status);
    const result = await runTemplatePhases(ctx);
    if (template.metadata.generation !== undefined) draft.status.observedGeneration = template.metadata.generation;
    // Decisions were made on what we read: a conflict means someone changed the object, so reconcile again on fresh data.
    const outcome = await new PatchHelper(client, ProxmoxTemplateType, template, { rebaseOnConflict: false }).patch(draft);
    if (outcome.writes && template.metadata.resourceVersion) this.replaced.set(key, template.metadata.resourceVersion);
    if (result.kind === 'requeueWithBackoff') this.deps.log.debug({ template: `${req.namespace}/${req.name}`, message: draft.status.message }, 'retrying with backoff');
    return result;
  }

  private async finalize(template: Template): Promise<ReconcileResult> {
    if (!hasFinalizer(template, TEMPLATE_FINALIZER)) return done();
    const { client, ports } = this.deps;
    const draft = structuredClone(template);
    draft.status ??= {};
    draft.status.phase = 'Deleting';
    const ctx = this.context(template, draft.status);
    let result: ReconcileResult;
    if (template.spec.retainPolicy === 'Retain') {
      const kept = (draft.status.versions ?? []).map((v) => `v${v.version} (VMID ${v.vmid})`).join(', ') || 'none';
      ports.event(template, 'Normal', 'TemplatesRetained', `retainPolicy is Retain: templates left on Proxmox: ${kept}`);
      if (draft.status.build) await ports.history.finished({ id: draft.status.build.id, result: 'CANCELLED', finishedAt: ctx.now, failureReason: 'the ProxmoxTemplate was deleted' });
      result = done();
    } else {
      result = await this.deleteTemplates(ctx);
    }
    if (result.kind !== 'done') {
      await new PatchHelper(client, ProxmoxTemplateType, template, { rebaseOnConflict: false }).patch(draft);
      return result;
    }
    if (template.spec.retainPolicy !== 'Retain') ports.event(template, 'Normal', 'TemplatesDeleted', 'the templates and images this object built were removed from Proxmox');
    await ports.forget(template);
    await removeFinalizer(client, ProxmoxTemplateType, template, TEMPLATE_FINALIZER);
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
      return (err as { transient?: boolean }).transient ? requeueWithBackoff() : requeueAfter(this.config.retryBaseMs);
    }
  }

  private context(template: Template, status: NonNullable<Template['status']>): TemplateContext {
    return {
      template,
      status,
      now: this.deps.now?.() ?? new Date(),
      ports: this.deps.ports,
      config: this.config,
      api: undefined as unknown as ProxmoxApi,
    };
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
