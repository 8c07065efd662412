// The BareMetalHost reconciler: the generic status reconcile (pause, finalizer, observedGeneration, a status patch
// with only what changed) around one run of the state machine; on deletion the boot config goes before the finalizer.
import type { Logger } from 'pino';
import { AnvilResources, type BareMetalHost, type BareMetalHostStatus } from '@anvil/core/api';
import { deepEqual } from '@anvil/core/json';
import type { CacheReader, KubeClient, ResourceType } from '@anvil/core/kube';
import { commitThenContinue, done, type ReconcileResult } from '../../runtime/result.js';
import { StatusReconciler, type StatusKind } from '../../runtime/status-reconciler.js';
import { defaultStateMachineConfig, type HostPorts, type StateMachineConfig } from './ports.js';
import { runStateMachine } from './states.js';

export const BareMetalHostType: ResourceType = AnvilResources.bareMetalHost;
export const HOST_FINALIZER = 'anvil.dev/baremetalhost';

export interface BareMetalHostReconcilerDeps {
  client: KubeClient;
  hosts: CacheReader<BareMetalHost>;
  ports: HostPorts;
  log: Logger;
  config?: StateMachineConfig;
  now?: () => Date;
}

/**
 * The state machine owns the host's status: its decisions are made on what it read, so a 409 reconciles again on
 * fresh data instead of re-applying them to a newer object.
 */
export class BareMetalHostReconciler extends StatusReconciler<BareMetalHost, BareMetalHostStatus> {
  constructor(deps: BareMetalHostReconcilerDeps) {
    super({ client: deps.client, type: AnvilResources.bareMetalHost, cache: deps.hosts, kind: new HostLifecycle(deps), finalizer: HOST_FINALIZER, rebaseOnConflict: false });
  }
}

class HostLifecycle implements StatusKind<BareMetalHost, BareMetalHostStatus> {
  constructor(private readonly deps: BareMetalHostReconcilerDeps) {}

  observe(host: BareMetalHost, status: BareMetalHostStatus): Promise<ReconcileResult> {
    return runStateMachine({ host, status, now: this.deps.now?.() ?? new Date(), ports: this.deps.ports, config: this.deps.config ?? defaultStateMachineConfig });
  }

  /** First the Deleting state is saved (and announced), then the boot config is removed and the finalizer with it. */
  async finalize(host: BareMetalHost, status: BareMetalHostStatus): Promise<ReconcileResult> {
    if (status.state !== 'Deleting') {
      status.state = 'Deleting';
      this.deps.ports.event(host, 'Normal', 'Deleting', 'removing boot config');
      return commitThenContinue();
    }
    await this.deps.ports.deleteBootConfig(host);
    return done();
  }
}

/**
 * Skips update events that cannot change a decision: our own status writes. Spec/metadata changes and the fields the
 * boot-server reports (boot requests, installer events) always count.
 */
export function hostChangeMatters(o: BareMetalHost, n: BareMetalHost): boolean {
  if (o.metadata.generation !== n.metadata.generation) return true;
  if (!deepEqual(o.metadata.labels, n.metadata.labels) || !deepEqual(o.metadata.annotations, n.metadata.annotations)) return true;
  if (o.metadata.deletionTimestamp !== n.metadata.deletionTimestamp || !deepEqual(o.metadata.finalizers, n.metadata.finalizers)) return true;
  if (!deepEqual(o.status?.lastBootRequest, n.status?.lastBootRequest)) return true;
  const oc = o.status?.currentInstall;
  const nc = n.status?.currentInstall;
  return !deepEqual(oc?.lastEvent, nc?.lastEvent) || oc?.result !== nc?.result || oc?.installationId !== nc?.installationId;
}
