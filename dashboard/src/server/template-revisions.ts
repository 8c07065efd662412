// GET /api/templates/:namespace/:name/revisions/:from/:to: the diff of a template's chain between two of its revisions
// (status.revisions, their ControllerRevisions), for the host view to show what changed between two attempts. Needs
// RBAC to list autoinstalltemplates in the namespace.
import type { Request, Response } from 'express';
import type { AutoinstallTemplate } from '@anvil/core/api';
import type { KubeClient, KubeObject, ResourceType } from '@anvil/core/kube';
import { unifiedDiff } from '@anvil/core/text';
import { forbiddenMessage, sendError, userOf } from './auth.js';
import type { Authorizer, TemplateRevisionReader, TemplateSource } from './ports.js';

export interface RevisionDiffOptions {
  templates?: TemplateSource;
  revisions?: TemplateRevisionReader;
  authorizer: Authorizer;
}

/** The chain's specs as text a line diff reads well: multi-line strings (the templates' files) as their lines. */
export function specsText(data: { chain?: string[]; specs?: Record<string, Record<string, unknown>> }): string {
  const out: string[] = [`chain: ${(data.chain ?? []).join(' -> ')}`];
  for (const [name, spec] of Object.entries(data.specs ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`# ${name}`);
    for (const [key, value] of Object.entries(spec ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      if (typeof value === 'string' && value.includes('\n')) out.push(`${key}: |`, ...value.replace(/\n$/, '').split('\n').map((l) => `  ${l}`));
      else out.push(...`${key}: ${JSON.stringify(value, null, 2)}`.split('\n'));
    }
  }
  return out.join('\n') + '\n';
}

export function revisionDiffHandler(opts: RevisionDiffOptions) {
  return async (req: Request, res: Response): Promise<void> => {
    const { namespace, name, from, to } = req.params as { namespace: string; name: string; from: string; to: string };
    const user = userOf(res);
    if (!(await opts.authorizer.mayList(user, 'autoinstalltemplates', namespace))) return sendError(res, 403, forbiddenMessage(user, namespace, 'autoinstalltemplates'));
    if (!opts.templates || !opts.revisions) return sendError(res, 404, 'template revisions are not available here (this dashboard server was started without them)');
    const template: AutoinstallTemplate | undefined = opts.templates.listAutoinstallTemplates().find((t) => t.metadata.namespace === namespace && t.metadata.name === name);
    if (!template) return sendError(res, 404, `no AutoinstallTemplate ${namespace}/${name}`);
    const kept = template.status?.revisions ?? [];
    const side = async (text: string) => {
      const entry = kept.find((r) => String(r.revision) === text);
      if (!entry) return { error: `${namespace}/${name} keeps no revision ${text} (kept: ${kept.map((r) => r.revision).join(', ') || 'none'})` };
      const data = await opts.revisions!.revisionData(namespace, entry.controllerRevision);
      return data ? { entry, text: specsText(data) } : { error: `the ControllerRevision ${entry.controllerRevision} of revision ${text} is gone` };
    };
    const [a, b] = await Promise.all([side(from), side(to)]);
    if ('error' in a || 'error' in b) return sendError(res, 404, ('error' in a ? a.error : undefined) ?? (b as { error: string }).error);
    res.set('Cache-Control', 'no-store').json({
      template: name,
      from: { revision: a.entry.revision, contentHash: a.entry.contentHash },
      to: { revision: b.entry.revision, contentHash: b.entry.contentHash },
      diff: unifiedDiff(a.text, b.text, `${name} revision ${a.entry.revision}`, `${name} revision ${b.entry.revision}`),
    });
  };
}

const CONTROLLER_REVISION: ResourceType = { group: 'apps', version: 'v1', kind: 'ControllerRevision', plural: 'controllerrevisions', namespaced: true };

type RevisionData = { chain?: string[]; specs?: Record<string, Record<string, unknown>> };

/** TemplateRevisionReader on the Kubernetes API: the ControllerRevision's data (the operator may get them). */
export class KubeTemplateRevisionReader implements TemplateRevisionReader {
  constructor(private readonly client: KubeClient) {}

  async revisionData(namespace: string, name: string): Promise<RevisionData | undefined> {
    return (await this.client.get<KubeObject & { data?: RevisionData }>(CONTROLLER_REVISION, { namespace, name }))?.data;
  }
}
