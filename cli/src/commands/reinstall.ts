// anvil reinstall HOST: bumps spec.provisioning.revision, guarded by the resourceVersion read (a concurrent change is
// read again rather than overwritten). GitOps-managed hosts get a warning: the next sync would revert the bump.
import { isConflict } from '@anvil/core/kube';
import { EXIT } from '../errors.js';
import { flagBool, type CommandContext } from '../context.js';
import { getHost } from '../hosts-lookup.js';
import { BareMetalHostResource } from '../resources.js';

const ATTEMPTS = 3;

export async function run(ctx: CommandContext): Promise<number> {
  const cluster = await ctx.cluster();
  const name = ctx.args[0]!;
  const namespace = cluster.namespace;
  const dryRun = flagBool(ctx.flags, 'dry-run');
  for (let attempt = 1; ; attempt++) {
    const host = await getHost(cluster, name);
    const revision = (host.spec.provisioning?.revision ?? 0) + 1;
    try {
      await cluster.client.patch(
        BareMetalHostResource,
        { namespace, name },
        'merge',
        { metadata: { resourceVersion: host.metadata.resourceVersion }, spec: { provisioning: { revision } } },
        { dryRun },
      );
    } catch (err) {
      if (isConflict(err) && attempt < ATTEMPTS) continue;
      throw err;
    }
    ctx.out(
      dryRun
        ? `BareMetalHost ${namespace}/${name}: spec.provisioning.revision would be set to ${revision} (dry run: nothing changed)`
        : `BareMetalHost ${namespace}/${name}: spec.provisioning.revision set to ${revision}; it will be reinstalled`,
    );
    if (host.metadata.annotations?.['argocd.argoproj.io/tracking-id'] || host.metadata.labels?.['kustomize.toolkit.fluxcd.io/name'] || host.metadata.labels?.['app.kubernetes.io/instance']) {
      ctx.warn('warning: this host looks managed by GitOps; set the revision in Git too, or the next sync reverts it');
    }
    return EXIT.ok;
  }
}
