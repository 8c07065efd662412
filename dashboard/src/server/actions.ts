// The dashboard's actions on a host: reinstall (the next spec.provisioning.revision), reboot (a new
// spec.reboot.requestId) and accept (a Discovered host's spec.templateRef). Each is a spec change, as a GitOps commit
// would make it, written as a JSON patch whose `test` ops make it exact: a reinstall computed from a revision that
// changed meanwhile is refused, never applied to the newer one. The annotation anvil.dev/last-action says who did it.
import type { BareMetalHost } from '@anvil/core/api';

export const HOST_ACTIONS = ['reinstall', 'reboot', 'accept'] as const;
export type HostAction = (typeof HOST_ACTIONS)[number];

export const LAST_ACTION_ANNOTATION = 'anvil.dev/last-action';
const NAME_PATTERN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface JsonPatchOp {
  op: 'test' | 'add' | 'replace';
  path: string;
  value: unknown;
}

export interface ActionPlan {
  ops: JsonPatchOp[];
  /** What was asked, for the answer, the log and the Event. */
  note: string;
}

export interface ActionRefusal {
  status: 400 | 409;
  message: string;
}

/** Why an action cannot be taken on the host now, or undefined when it can. */
export function unavailableReason(host: BareMetalHost, action: HostAction): string | undefined {
  const ref = `${host.metadata.namespace}/${host.metadata.name}`;
  if (host.metadata.deletionTimestamp) return `${ref} is being deleted`;
  switch (action) {
    case 'reinstall':
      if (!host.spec.templateRef?.name) return `${ref} has no template: accept it with one first`;
      if (host.spec.provisioning?.allowed === false) return `${ref} has spec.provisioning.allowed false: no install starts until it is true`;
      return undefined;
    case 'reboot':
      return host.spec.bmc ? undefined : `${ref} has no spec.bmc: anvil cannot power it`;
    case 'accept':
      return host.spec.templateRef?.name ? `${ref} has a template already (${host.spec.templateRef.name})` : undefined;
  }
}

/**
 * The patch that carries out `action`, or why not. `templates`: the AutoinstallTemplates of the host's namespace,
 * when known (an accept naming another is refused).
 */
export function planAction(
  host: BareMetalHost,
  action: HostAction,
  body: Record<string, unknown>,
  who: string,
  now: Date,
  templates?: ReadonlySet<string>,
): ActionPlan | ActionRefusal {
  const unavailable = unavailableReason(host, action);
  if (unavailable) return { status: 409, message: unavailable };
  let ops: JsonPatchOp[];
  let note: string;
  switch (action) {
    case 'reinstall': {
      const revision = host.spec.provisioning?.revision ?? 0;
      ops = host.spec.provisioning?.revision === undefined
        ? [{ op: 'add', path: '/spec/provisioning', value: { ...host.spec.provisioning, revision: 1 } }]
        : [{ op: 'test', path: '/spec/provisioning/revision', value: revision }, { op: 'replace', path: '/spec/provisioning/revision', value: revision + 1 }];
      note = `reinstall: spec.provisioning.revision ${revision} -> ${revision + 1}`;
      break;
    }
    case 'reboot': {
      const mode = body.mode ?? host.spec.reboot?.mode ?? 'Soft';
      if (mode !== 'Soft' && mode !== 'Hard') return { status: 400, message: `mode must be Soft or Hard, got ${JSON.stringify(mode)}` };
      const requestId = `dashboard-${now.toISOString()}`;
      ops = [{ op: 'add', path: '/spec/reboot', value: { requestId, mode } }];
      note = `reboot (${mode}): spec.reboot.requestId ${requestId}`;
      break;
    }
    case 'accept': {
      const template = body.template;
      if (typeof template !== 'string' || !NAME_PATTERN.test(template)) return { status: 400, message: 'template must be the name of an AutoinstallTemplate in the host\'s namespace' };
      if (templates && !templates.has(template)) return { status: 400, message: `there is no AutoinstallTemplate ${template} in namespace ${host.metadata.namespace}` };
      ops = [{ op: 'add', path: '/spec/templateRef', value: { name: template } }];
      note = `accept: spec.templateRef ${template}`;
      break;
    }
  }
  const stamp = `${action} by ${who} at ${now.toISOString()}`;
  ops.push(
    host.metadata.annotations
      ? { op: 'add', path: `/metadata/annotations/${LAST_ACTION_ANNOTATION.replace('/', '~1')}`, value: stamp }
      : { op: 'add', path: '/metadata/annotations', value: { [LAST_ACTION_ANNOTATION]: stamp } },
  );
  return { ops, note };
}

export const isRefusal = (p: ActionPlan | ActionRefusal): p is ActionRefusal => 'status' in p;
