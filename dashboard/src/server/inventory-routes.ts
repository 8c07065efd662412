// GET /api/templates and GET /api/discovered: the templates the user may list (RBAC on autoinstalltemplates and
// proxmoxtemplates, per namespace) and the discovered machines (cluster-scoped facts: a cluster-wide
// `list baremetalhosts` is required, since they are not in any namespace).
import type { Request, Response } from 'express';
import { HistoryQueryError } from '@anvil/core/db';
import { forbiddenMessage, sendError, userOf, visibleNamespaces } from './auth.js';
import { discoveredView, parseDiscoveredQuery } from './discovered.js';
import type { Authorizer, HistoryReader, HostSource, TemplateSource } from './ports.js';
import { templatesView } from './templates.js';

export interface InventoryOptions {
  hosts: HostSource;
  templates?: TemplateSource;
  authorizer: Authorizer;
  history?: HistoryReader;
}

const visibleIn = (visible: 'all' | Set<string>) => (namespace: string) => visible === 'all' || visible.has(namespace);

export function templatesHandler(opts: InventoryOptions) {
  return async (_req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    if (!opts.templates) return sendError(res, 404, 'the template source is not available here (this dashboard server was started without one)');
    const autoinstall = opts.templates.listAutoinstallTemplates();
    const proxmox = opts.templates.listProxmoxTemplates();
    const hosts = opts.hosts.list();
    const ns = <T extends { metadata: { namespace?: string } }>(items: T[]) => items.map((t) => t.metadata.namespace ?? '');
    const [seeAutoinstall, seeProxmox, seeHosts] = await Promise.all([
      visibleNamespaces(opts.authorizer, user, ns(autoinstall), 'autoinstalltemplates'),
      visibleNamespaces(opts.authorizer, user, ns(proxmox), 'proxmoxtemplates'),
      visibleNamespaces(opts.authorizer, user, ns(autoinstall), 'baremetalhosts'),
    ]);
    const none = (v: 'all' | Set<string>) => v !== 'all' && v.size === 0;
    if (none(seeAutoinstall) && none(seeProxmox)) {
      return sendError(res, 403, `${forbiddenMessage(user, undefined, 'autoinstalltemplates')}; nor proxmoxtemplates.anvil.dev`);
    }
    const view = await templatesView({
      autoinstall: autoinstall.filter((t) => visibleIn(seeAutoinstall)(t.metadata.namespace ?? '')),
      proxmox: proxmox.filter((t) => visibleIn(seeProxmox)(t.metadata.namespace ?? '')),
      hosts,
      hostsVisible: visibleIn(seeHosts),
      history: opts.history,
    });
    res.set('Cache-Control', 'no-store').json({ ...view, username: user.username });
  };
}

export function discoveredHandler(opts: InventoryOptions) {
  return async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    if (!(await opts.authorizer.mayList(user, 'baremetalhosts', undefined))) {
      return sendError(res, 403, `${user.username} may not list baremetalhosts.anvil.dev cluster-wide, which discovered machines need (they belong to no namespace): grant the list verb on baremetalhosts in the anvil.dev API group with a ClusterRoleBinding`);
    }
    let query;
    try {
      query = parseDiscoveredQuery(req.query as Record<string, unknown>);
      res.set('Cache-Control', 'no-store').json({ ...(await discoveredView(opts.history, query)), username: user.username });
    } catch (err) {
      if (err instanceof HistoryQueryError || !query) return sendError(res, 400, (err as Error).message);
      throw err;
    }
  };
}
