// The BareMetalHost reconciler: finalizer and pause handling, then one run of the state machine, then a status
// patch with only what changed.
import type { Logger } from 'pino';
import { BAREMETALHOST_KIND, BAREMETALHOST_PLURAL, GROUP, PAUSED_ANNOTATION, VERSION, type BareMetalHost } from '../../../../shared/src/api/index.js';
import { deepEqual } from '../../../../shared/src/json/merge-patch.js';
import type { KubeClient, KubeObject, ResourceType } from '../../../../shared/src/kube/index.js';
import { addFinalizer, hasFinalizer, removeFinalizer } from '../../runtime/finalizers.js';
import type { CacheReader } from '../../../../shared/src/kube/cache.js';
import { PatchHelper } from '../../runtime/patch-helper.js';
import type { Reconciler, Request } from '../../runtime/reconciler.js';
import { done, type ReconcileResult } from '../../runtime/result.js';
import { defaultStateMachineConfig, type HostPorts, type StateMachineConfig } from './ports.js';
import { runStateMachine, type HostContext } from './states.js';

export const BareMetalHostType: ResourceType = { group: GROUP, version: VERSION, kind: BAREMETALHOST_KIND, plural: BAREMETALHOST_PLURAL, namespaced: true };
export const HOST_FINALIZER = 'anvil.dev/baremetalhost';

export interface BareMetalHostReconcilerDeps {
  client: KubeClient;
  hosts: CacheReader<BareMetalHost & KubeObject>;
  ports: HostPorts;
  log: Logger;
  config?: StateMachineConfig;
  now?: () => Date;
}

export class BareMetalHostReconciler implements Reconciler {
  constructor(private readonly deps: BareMetalHostReconcilerDeps) {}

  async reconcile(req: Request): Promise<ReconcileResult> {
    const { client, hosts, ports } = this.deps;
    const cached = hosts.get(req.namespace, req.name);
    if (!cached) return done();
    if (cached.metadata.annotations?.[PAUSED_ANNOTATION] === 'true') return done();
    let host = structuredClone(cached);

    if (host.metadata.deletionTimestamp) {
      if (!hasFinalizer(host, HOST_FINALIZER)) return done();
      if (host.status?.state !== 'Deleting') {
        const draft = structuredClone(host);
        draft.status = { ...draft.status, state: 'Deleting' };
        host = (await new PatchHelper(client, BareMetalHostType, host).patch(draft)).object;
        ports.event(host, 'Normal', 'Deleting', 'removing boot config');
      }
      await ports.deleteBootConfig(host);
      await removeFinalizer(client, BareMetalHostType, host, HOST_FINALIZER);
      return done();
    }
    if (!hasFinalizer(host, HOST_FINALIZER)) host = await addFinalizer(client, BareMetalHostType, host, HOST_FINALIZER);

    const draft = structuredClone(host);
    draft.status ??= {};
    const ctx: HostContext = { host, status: draft.status, now: this.deps.now?.() ?? new Date(), ports, config: this.deps.config ?? defaultStateMachineConfig };
    const result = await runStateMachine(ctx);
    if (host.metadata.generation !== undefined) draft.status.observedGeneration = host.metadata.generation;
    await new PatchHelper(client, BareMetalHostType, host, { rebaseOnConflict: false }).patch(draft);
    return result;
  }
}

/**
 * Skips update events that cannot change a decision: our own status writes. Spec/metadata changes and the fields the
 * boot-server reports (boot requests, installer events) always count.
 */
export function hostChangeMatters(oldObj: KubeObject, newObj: KubeObject): boolean {
  const o = oldObj as BareMetalHost & KubeObject;
  const n = newObj as BareMetalHost & KubeObject;
  if (o.metadata.generation !== n.metadata.generation) return true;
  if (!deepEqual(o.metadata.labels, n.metadata.labels) || !deepEqual(o.metadata.annotations, n.metadata.annotations)) return true;
  if (o.metadata.deletionTimestamp !== n.metadata.deletionTimestamp || !deepEqual(o.metadata.finalizers, n.metadata.finalizers)) return true;
  if (!deepEqual(o.status?.lastBootRequest, n.status?.lastBootRequest)) return true;
  const oc = o.status?.currentInstall;
  const nc = n.status?.currentInstall;
  return !deepEqual(oc?.lastEvent, nc?.lastEvent) || oc?.result !== nc?.result || oc?.installationId !== nc?.installationId;
}
