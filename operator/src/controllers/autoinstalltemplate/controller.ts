// The AutoinstallTemplate controller owns one concern: is this template (with its whole chain) usable?
// It reports that as the Valid condition, with the nunjucks error and line when it is not.
import { AUTOINSTALLTEMPLATE_CONDITIONS, type AutoinstallTemplate } from '../../../../shared/src/api/index.js';
import { setCondition } from '../../../../shared/src/conditions.js';
import type { KubeClient, KubeObject } from '../../../../shared/src/kube/index.js';
import type { CacheReader } from '../../../../shared/src/kube/cache.js';
import { PatchHelper } from '../../runtime/patch-helper.js';
import type { Reconciler, Request, Result } from '../../runtime/reconciler.js';
import { formatProblem, validateTemplateChain } from '../../render/index.js';
import { AutoinstallTemplateType } from '../baremetalhost/render-host.js';

type Template = AutoinstallTemplate & KubeObject;

const MAX_MESSAGE = 2000;

export class AutoinstallTemplateReconciler implements Reconciler {
  constructor(
    private readonly client: KubeClient,
    private readonly templates: CacheReader<Template>,
  ) {}

  async reconcile(req: Request): Promise<Result> {
    const cached = this.templates.get(req.namespace, req.name);
    if (!cached || cached.metadata.deletionTimestamp) return {};
    const template = structuredClone(cached);
    const draft = structuredClone(template);
    draft.status ??= {};
    const lookup = (name: string) => this.templates.get(req.namespace, name)?.spec;
    const result = validateTemplateChain(req.name, lookup);
    const generation = template.metadata.generation;
    if (result.problems.length === 0 && result.resolved) {
      draft.status.resolvedChain = result.resolved.chain;
      draft.status.contentHash = result.resolved.contentHash;
      draft.status.message = '';
      draft.status.conditions = setCondition(draft.status.conditions, { type: AUTOINSTALLTEMPLATE_CONDITIONS.Valid, status: 'True', reason: 'Valid', message: `chain ${result.resolved.chain.join(' -> ')} compiles` }, generation);
    } else {
      const message = result.problems.map(formatProblem).join('; ').slice(0, MAX_MESSAGE);
      if (result.resolved) {
        draft.status.resolvedChain = result.resolved.chain;
        draft.status.contentHash = result.resolved.contentHash;
      } else {
        delete draft.status.resolvedChain;
        delete draft.status.contentHash;
      }
      draft.status.message = message;
      const reason = result.kind === 'chain' ? 'ChainInvalid' : 'SyntaxError';
      draft.status.conditions = setCondition(draft.status.conditions, { type: AUTOINSTALLTEMPLATE_CONDITIONS.Valid, status: 'False', reason, message }, generation);
    }
    if (generation !== undefined) draft.status.observedGeneration = generation;
    await new PatchHelper(this.client, AutoinstallTemplateType, template as never).patch(draft as never);
    return {};
  }
}
