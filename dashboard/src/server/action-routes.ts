// POST /api/hosts/:namespace/:name/actions/:action, and what the host view may offer. An action needs the
// Authorization header (never the session cookie: no other site can make a browser send it), a user who may see the
// host (list) and patch it (SubjectAccessReview for `patch baremetalhosts.anvil.dev <name>`), and a host the action
// fits; it is written with the operator's credentials, logged and recorded as an Event with the user's name.
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { BareMetalHost } from '@anvil/core/api';
import { HOST_ACTIONS, isRefusal, planAction, unavailableReason, type HostAction } from './actions.js';
import { forbiddenMessage, sendError, userOf } from './auth.js';
import { HostWriteError, type Authorizer, type HostSource, type HostWriter, type TemplateSource, type UserInfo } from './ports.js';

export interface ActionOptions {
  hosts: HostSource;
  templates?: TemplateSource;
  authorizer: Authorizer;
  writer?: HostWriter;
  log: Logger;
  now?: () => Date;
}

/** What the host view offers this user: every action, with why it is not possible where it is not. */
export interface HostActionsView {
  /** The user may patch this host (RBAC). */
  allowed: boolean;
  unavailable: Partial<Record<HostAction, string>>;
  /** The AutoinstallTemplates of the host's namespace a Discovered host can be accepted with (when the user may list them). */
  templates: string[];
}

const patchForbidden = (user: UserInfo, namespace: string, name: string): string =>
  `${user.username} may not patch baremetalhosts.anvil.dev ${name} in namespace ${namespace} (RBAC: grant the patch verb on baremetalhosts in the anvil.dev API group)`;

function templateNames(opts: ActionOptions, namespace: string): string[] {
  return (opts.templates?.listAutoinstallTemplates() ?? []).filter((t) => t.metadata.namespace === namespace).map((t) => t.metadata.name ?? '').sort();
}

export async function hostActionsView(opts: ActionOptions, user: UserInfo, host: BareMetalHost): Promise<HostActionsView> {
  const namespace = host.metadata.namespace ?? '';
  const allowed = !!opts.writer && (await opts.authorizer.mayPatchHost(user, namespace, host.metadata.name ?? ''));
  const unavailable: Partial<Record<HostAction, string>> = {};
  for (const action of HOST_ACTIONS) {
    const reason = unavailableReason(host, action);
    if (reason) unavailable[action] = reason;
  }
  const templates = allowed && !unavailable.accept && (await opts.authorizer.mayList(user, 'autoinstalltemplates', namespace)) ? templateNames(opts, namespace) : [];
  return { allowed, unavailable, templates };
}

export function actionHandler(opts: ActionOptions) {
  return async (req: Request, res: Response): Promise<void> => {
    const { namespace, name, action } = req.params as { namespace: string; name: string; action: string };
    const user = userOf(res);
    if (!(HOST_ACTIONS as readonly string[]).includes(action)) return sendError(res, 404, `no action ${action}: one of ${HOST_ACTIONS.join(', ')}`);
    if (!opts.writer) return sendError(res, 404, 'this dashboard server is read-only (started without a host writer)');
    if (!(await opts.authorizer.mayListHosts(user, namespace))) return sendError(res, 403, forbiddenMessage(user, namespace));
    const host = opts.hosts.get(namespace, name);
    if (!host) return sendError(res, 404, `no BareMetalHost ${namespace}/${name}`);
    if (!(await opts.authorizer.mayPatchHost(user, namespace, name))) return sendError(res, 403, patchForbidden(user, namespace, name));

    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
    const known = opts.templates && (await opts.authorizer.mayList(user, 'autoinstalltemplates', namespace)) ? new Set(templateNames(opts, namespace)) : undefined;
    const plan = planAction(host, action as HostAction, body, user.username, opts.now?.() ?? new Date(), known);
    if (isRefusal(plan)) return sendError(res, plan.status, plan.message);
    try {
      await opts.writer.patchHost(namespace, name, plan.ops);
    } catch (err) {
      if (err instanceof HostWriteError) return sendError(res, err.status, err.message);
      throw err;
    }
    opts.log.info({ user: user.username, host: `${namespace}/${name}`, action, note: plan.note }, 'dashboard action');
    opts.writer.recordAction?.({ namespace, name, ...(host.metadata.uid ? { uid: host.metadata.uid } : {}) }, action, `${plan.note} (by ${user.username}, from the dashboard)`);
    res.status(202).set('Cache-Control', 'no-store').json({ action, note: plan.note });
  };
}
