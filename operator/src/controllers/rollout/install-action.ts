// The rollout's one action on a host: install this revision of the template. The host is pinned to the revision
// (spec.templateRef.revision) and its spec.provisioning.revision bumped, which the BareMetalHost controller carries
// out like any reinstall. Asking twice is harmless: a host already asked for this revision is left alone.
import { AnvilResources, type BareMetalHost } from '@anvil/core/api';
import type { KubeClient } from '@anvil/core/kube';

/**
 * Whether the host was already asked to install `revision`: it is pinned to it and the install is pending, running or
 * done. A failed install of it is not "asked" any more: a rollback may ask again.
 */
export function alreadyAsked(host: BareMetalHost, revision: number): boolean {
  if (host.spec.templateRef?.revision !== revision) return false;
  const asked = host.spec.provisioning?.revision ?? 0;
  const ci = host.status?.currentInstall;
  const started = ci?.revision ?? host.status?.provisionedRevision ?? -1;
  if (asked > started) return true;
  return !(host.status?.state === 'Failed' || ci?.result === 'FAIL');
}

export async function askToInstall(client: KubeClient, host: BareMetalHost, revision: number): Promise<void> {
  const ci = host.status?.currentInstall;
  const next = Math.max(host.spec.provisioning?.revision ?? 0, ci?.revision ?? 0, host.status?.provisionedRevision ?? 0) + 1;
  // resourceVersion in the patch: refused (409) if the host changed since the rollout read it
  await client.patch(AnvilResources.bareMetalHost, { namespace: host.metadata.namespace, name: host.metadata.name! }, 'merge', {
    metadata: { resourceVersion: host.metadata.resourceVersion },
    spec: { templateRef: { name: host.spec.templateRef!.name, revision }, provisioning: { revision: next } },
  });
}
