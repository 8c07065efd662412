// The power controller (one concern, as cert-manager splits its controllers): BMC reachability and credentials,
// the observed power state, spec.online, spec.reboot and the power cycle that starts each install attempt. It
// patches only status.power and its two conditions, merging with the state machine's writes on conflict.
import type { Logger } from 'pino';
import { AnvilResources, PAUSED_ANNOTATION, type BareMetalHost, type BareMetalHostStatus } from '@anvil/core/api';
import { deepEqual } from '@anvil/core/json';
import type { CacheReader, KubeClient } from '@anvil/core/kube';
import { requestKey, type Request } from '../../runtime/reconciler.js';
import type { ReconcileResult } from '../../runtime/result.js';
import { StatusReconciler, type StatusKind } from '../../runtime/status-reconciler.js';
import { defaultPowerControllerConfig, type PowerControllerConfig, type PowerPorts } from './ports.js';
import { reconcilePower, type HostMemory } from './power-control.js';

export interface PowerReconcilerDeps {
  client: KubeClient;
  hosts: CacheReader<BareMetalHost>;
  ports: PowerPorts;
  log: Logger;
  config?: Partial<PowerControllerConfig>;
  now?: () => Date;
}

/**
 * A second writer of BareMetalHost status: no finalizer and no observedGeneration (the state machine owns both), and
 * on a 409 its write is re-applied onto the latest object, since what it writes comes from the BMC, not from what it read.
 */
export class PowerReconciler extends StatusReconciler<BareMetalHost, BareMetalHostStatus> {
  constructor(deps: PowerReconcilerDeps) {
    super({ client: deps.client, type: AnvilResources.bareMetalHost, cache: deps.hosts, kind: new PowerControl(deps), observedGeneration: false, rebaseOnConflict: true });
  }
}

class PowerControl implements StatusKind<BareMetalHost, BareMetalHostStatus> {
  private readonly memory = new Map<string, HostMemory>();
  private readonly config: PowerControllerConfig;

  constructor(private readonly deps: PowerReconcilerDeps) {
    const given = Object.fromEntries(Object.entries(deps.config ?? {}).filter(([, v]) => v !== undefined));
    this.config = { ...defaultPowerControllerConfig, ...given };
  }

  async observe(host: BareMetalHost, status: BareMetalHostStatus): Promise<ReconcileResult> {
    const key = requestKey({ namespace: host.metadata.namespace, name: host.metadata.name ?? '' });
    let memory = this.memory.get(key);
    if (!memory || memory.uid !== host.metadata.uid) this.memory.set(key, (memory = { consecutiveErrors: 0, uid: host.metadata.uid }));
    const result = await reconcilePower({ host, status, now: this.deps.now?.() ?? new Date(), ports: this.deps.ports, config: this.config, memory });
    if (memory.consecutiveErrors && result.kind === 'requeueAfter') this.deps.log.debug({ host: key, errors: memory.consecutiveErrors, retryInMs: result.ms }, 'BMC error; backing off');
    return result;
  }

  async forget(req: Request): Promise<void> {
    this.memory.delete(requestKey(req));
    await this.deps.ports.forgetDriver(req.namespace ?? '', req.name);
  }
}

/** Changes power control reacts to at once (everything else waits for the next poll): spec, pause, a new attempt. */
export function powerChangeMatters(o: BareMetalHost, n: BareMetalHost): boolean {
  if (o.metadata.generation !== n.metadata.generation) return true;
  if (o.metadata.annotations?.[PAUSED_ANNOTATION] !== n.metadata.annotations?.[PAUSED_ANNOTATION]) return true;
  if (o.metadata.deletionTimestamp !== n.metadata.deletionTimestamp) return true;
  if (o.status?.state !== n.status?.state || !deepEqual(o.status?.bootConfig, n.status?.bootConfig)) return true;
  return o.status?.currentInstall?.attempt !== n.status?.currentInstall?.attempt;
}
