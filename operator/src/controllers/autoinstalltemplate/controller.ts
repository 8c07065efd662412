// The AutoinstallTemplate controller owns one concern: is this template (with its whole chain) usable?
// It reports that as the Valid condition, with the nunjucks error and line when it is not.
import { AUTOINSTALLTEMPLATE_CONDITIONS, AnvilResources, type AutoinstallTemplate, type AutoinstallTemplateSpec, type AutoinstallTemplateStatus } from '@anvil/core/api';
import { setCondition } from '@anvil/core/conditions';
import type { KubeClient, CacheReader } from '@anvil/core/kube';
import { formatProblem, validateTemplateChain } from '../../render/index.js';
import { done, type ReconcileResult } from '../../runtime/result.js';
import { StatusReconciler, type StatusKind } from '../../runtime/status-reconciler.js';
import { recordRevision } from './revisions.js';

const MAX_MESSAGE = 2000;

/** Validates the template's chain; no finalizer (nothing to clean up) and no pause (validation has no side effects). */
export class AutoinstallTemplateReconciler extends StatusReconciler<AutoinstallTemplate, AutoinstallTemplateStatus> {
  constructor(client: KubeClient, templates: CacheReader<AutoinstallTemplate>, now: () => Date = () => new Date()) {
    super({ client, type: AnvilResources.autoinstallTemplate, cache: templates, kind: new TemplateValidity(client, templates, now), pausable: false });
  }
}

class TemplateValidity implements StatusKind<AutoinstallTemplate, AutoinstallTemplateStatus> {
  constructor(
    private readonly client: KubeClient,
    private readonly templates: CacheReader<AutoinstallTemplate>,
    private readonly now: () => Date,
  ) {}

  async observe(template: AutoinstallTemplate, status: AutoinstallTemplateStatus): Promise<ReconcileResult> {
    const namespace = template.metadata.namespace;
    const result = validateTemplateChain(template.metadata.name ?? '', (name: string) => this.templates.get(namespace, name)?.spec);
    const generation = template.metadata.generation;
    if (result.problems.length === 0 && result.resolved) {
      status.resolvedChain = result.resolved.chain;
      status.contentHash = result.resolved.contentHash;
      status.message = '';
      status.conditions = setCondition(status.conditions, { type: AUTOINSTALLTEMPLATE_CONDITIONS.Valid, status: 'True', reason: 'Valid', message: `chain ${result.resolved.chain.join(' -> ')} compiles` }, generation);
      // only valid content becomes a revision: an invalid edit is never something a host could be installed with
      const specs = Object.fromEntries(result.resolved.dependencies.map((dep) => [dep, withoutRolloutPolicy(this.templates.get(namespace, dep)!.spec)]));
      status.revisions = await recordRevision(this.client, template, { contentHash: result.resolved.contentHash, chain: result.resolved.chain, specs }, this.now());
      return done();
    }
    const message = result.problems.map(formatProblem).join('; ').slice(0, MAX_MESSAGE);
    if (result.resolved) {
      status.resolvedChain = result.resolved.chain;
      status.contentHash = result.resolved.contentHash;
    } else {
      delete status.resolvedChain;
      delete status.contentHash;
    }
    status.message = message;
    const reason = result.kind === 'chain' ? 'ChainInvalid' : 'SyntaxError';
    status.conditions = setCondition(status.conditions, { type: AUTOINSTALLTEMPLATE_CONDITIONS.Valid, status: 'False', reason, message }, generation);
    return done();
  }
}

/** The content a revision keeps: everything but the rollout policy (which the content hash leaves out too). */
function withoutRolloutPolicy(spec: AutoinstallTemplateSpec): AutoinstallTemplateSpec {
  const { rollout: _policy, ...content } = spec;
  return content;
}
