// Reading an AutoinstallTemplate's rollout and its hosts from the API server, for the rollout tests: waits that say,
// when they time out, where the rollout and each host were.
import { AnvilResources, type AutoinstallTemplate, type BareMetalHost } from '@anvil/core/api';
import type { KubeClient } from '@anvil/core/kube';
import { waitFor } from './kube.js';

export type Rollout = NonNullable<NonNullable<AutoinstallTemplate['status']>['rollout']>;

export function rolloutWatch(client: () => KubeClient, namespace: string, template: string, hosts: readonly string[], context: () => string = () => '') {
  const getHost = async (name: string) => (await client().get<BareMetalHost>(AnvilResources.bareMetalHost, { namespace, name }))!;
  const getTemplate = async () => (await client().get<AutoinstallTemplate>(AnvilResources.autoinstallTemplate, { namespace, name: template }))!;
  const snapshot = async () => {
    const states = await Promise.all(
      hosts.map(async (n) => {
        const h = await getHost(n);
        return { n, pin: h.spec.templateRef, rev: h.spec.provisioning?.revision, state: h.status?.state, installed: h.status?.currentInstall?.template };
      }),
    );
    return `rollout: ${JSON.stringify((await getTemplate()).status?.rollout)}; hosts: ${JSON.stringify(states)}${context()}`;
  };
  return {
    getHost,
    getTemplate,
    snapshot,
    /** Waits for the rollout to satisfy `ok`; a timeout says where it and the hosts are. */
    rolloutWhere: (what: string, ok: (r: Rollout) => boolean) =>
      waitFor(`rollout ${what}`, async () => {
        const r = (await getTemplate()).status?.rollout;
        return r && ok(r) ? r : undefined;
      }, 120_000).catch(async (err: unknown) => {
        throw new Error(`${String(err)}; ${await snapshot()}`);
      }),
    /** The template's newest revision number once it is above `after`. */
    newestRevision: (after: number) =>
      waitFor(`template revision > ${after}`, async () => {
        const n = (await getTemplate()).status?.revisions?.[0]?.revision ?? 0;
        return n > after ? n : undefined;
      }),
    /** The content hash of the template chain the host's last finished install used. */
    installedHash: async (name: string) => (await getHost(name)).status?.recentInstalls?.[0]?.template?.contentHash,
  };
}
