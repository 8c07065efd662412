// Template revisions (issue 26): each valid content of a template's resolved chain gets a number and an immutable copy
// in a ControllerRevision (apps/v1, owned by the template, as StatefulSets and DaemonSets keep theirs), listed newest
// first in status.revisions, the last MAX_TEMPLATE_REVISIONS kept. Content that comes back (an edit undone) is the
// next revision again, its ControllerRevision reused.
import { MAX_TEMPLATE_REVISIONS, type AutoinstallTemplate, type AutoinstallTemplateSpec, type AutoinstallTemplateStatus } from '@anvil/core/api';
import { ApiError, type KubeClient, type KubeObject, type ResourceType } from '@anvil/core/kube';

export const CONTROLLER_REVISION: ResourceType = { group: 'apps', version: 'v1', kind: 'ControllerRevision', plural: 'controllerrevisions', namespaced: true };
export const TEMPLATE_LABEL = 'anvil.dev/template';

export type TemplateRevision = NonNullable<AutoinstallTemplateStatus['revisions']>[number];

/** What a ControllerRevision of a template keeps: the chain and the spec of every template the content depends on. */
export interface TemplateRevisionData {
  contentHash: string;
  chain: string[];
  specs: Record<string, AutoinstallTemplateSpec>;
}

/** `<template>-<10 hex of the content hash>`: one object per content, whatever its revision number. */
export function controllerRevisionName(template: string, contentHash: string): string {
  return `${template.slice(0, 242)}-${contentHash.replace(/^sha256:/, '').slice(0, 10)}`;
}

/**
 * The revisions list with `data` as the newest (unchanged when it is already), writing its ControllerRevision first
 * and deleting those that fell off the list.
 */
export async function recordRevision(client: KubeClient, template: AutoinstallTemplate, data: TemplateRevisionData, now: Date): Promise<TemplateRevision[]> {
  const current = template.status?.revisions ?? [];
  if (current[0]?.contentHash === data.contentHash) return current;
  const namespace = template.metadata.namespace!;
  const name = controllerRevisionName(template.metadata.name!, data.contentHash);
  const revision = Math.max(0, ...current.map((r) => r.revision)) + 1;
  try {
    await client.create<KubeObject>(CONTROLLER_REVISION, {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name,
        namespace,
        labels: { [TEMPLATE_LABEL]: template.metadata.name!.slice(0, 63) },
        ownerReferences: [{ apiVersion: 'anvil.dev/v1alpha1', kind: 'AutoinstallTemplate', name: template.metadata.name!, uid: template.metadata.uid!, controller: true, blockOwnerDeletion: false }],
      },
      data,
      revision,
    } as KubeObject);
  } catch (err) {
    // kept from an earlier revision of the same content, or written before a crash: the data is the same
    if (!(err instanceof ApiError && err.code === 409)) throw err;
  }
  const next = [{ revision, contentHash: data.contentHash, controllerRevision: name, createdAt: now.toISOString() }, ...current.filter((r) => r.contentHash !== data.contentHash)];
  const kept = next.slice(0, MAX_TEMPLATE_REVISIONS);
  for (const dropped of next.slice(MAX_TEMPLATE_REVISIONS)) {
    if (kept.some((r) => r.controllerRevision === dropped.controllerRevision)) continue;
    try {
      await client.delete(CONTROLLER_REVISION, { namespace, name: dropped.controllerRevision });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
  return kept;
}
