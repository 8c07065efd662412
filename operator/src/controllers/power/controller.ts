// The power controller (one concern, as cert-manager splits its controllers): BMC reachability and credentials,
// the observed power state, spec.online, spec.reboot and the power cycle that starts each install attempt. It
// patches only status.power and its two conditions, merging with the state machine's writes on conflict.
import type { Logger } from 'pino';
import { PAUSED_ANNOTATION, type BareMetalHost } from '../../../../shared/src/api/index.js';
import { deepEqual } from '../../../../shared/src/json/merge-patch.js';
import type { CacheReader } from '../../../../shared/src/kube/cache.js';
import type { KubeClient, KubeObject } from '../../../../shared/src/kube/index.js';
import { PatchHelper } from '../../runtime/patch-helper.js';
import type { Reconciler, Request, Result } from '../../runtime/reconciler.js';
import { BareMetalHostType } from '../baremetalhost/controller.js';
import { defaultPowerControllerConfig, type PowerControllerConfig, type PowerPorts } from './ports.js';
import { reconcilePower, type HostMemory } from './power-control.js';

export interface PowerReconcilerDeps {
  client: KubeClient;
  hosts: CacheReader<BareMetalHost & KubeObject>;
  ports: PowerPorts;
  log: Logger;
  config?: Partial<PowerControllerConfig>;
  now?: () => Date;
}

export class PowerReconciler implements Reconciler {
  private readonly memory = new Map<string, HostMemory>();
  private readonly config: PowerControllerConfig;

  constructor(private readonly deps: PowerReconcilerDeps) {
    const given = Object.fromEntries(Object.entries(deps.config ?? {}).filter(([, v]) => v !== undefined));
    this.config = { ...defaultPowerControllerConfig, ...given };
  }

  async reconcile(req: Request): Promise<Result> {
    const key = `${req.namespace}/${req.name}`;
    const cached = this.deps.hosts.get(req.namespace, req.name);
    if (!cached || cached.metadata.deletionTimestamp) {
      this.memory.delete(key);
      await this.deps.ports.forgetDriver(req.namespace ?? '', req.name);
      return {};
    }
    if (cached.metadata.annotations?.[PAUSED_ANNOTATION] === 'true') return {};
    let memory = this.memory.get(key);
    if (!memory || memory.uid !== cached.metadata.uid) this.memory.set(key, (memory = { consecutiveErrors: 0, uid: cached.metadata.uid }));

    const draft = structuredClone(cached);
    draft.status ??= {};
    const result = await reconcilePower({ host: cached, status: draft.status, now: this.deps.now?.() ?? new Date(), ports: this.deps.ports, config: this.config, memory });
    // Re-applied onto the latest object on a 409: what we write comes from the BMC, not from what we read.
    await new PatchHelper(this.deps.client, BareMetalHostType, cached).patch(draft);
    if (memory.consecutiveErrors) this.deps.log.debug({ host: key, errors: memory.consecutiveErrors, retryInMs: result.requeueAfterMs }, 'BMC error; backing off');
    return result.requeueAfterMs ? { requeueAfterMs: result.requeueAfterMs } : {};
  }
}

/** Changes power control reacts to at once (everything else waits for the next poll): spec, pause, a new attempt. */
export function powerChangeMatters(oldObj: KubeObject, newObj: KubeObject): boolean {
  const o = oldObj as BareMetalHost & KubeObject;
  const n = newObj as BareMetalHost & KubeObject;
  if (o.metadata.generation !== n.metadata.generation) return true;
  if (o.metadata.annotations?.[PAUSED_ANNOTATION] !== n.metadata.annotations?.[PAUSED_ANNOTATION]) return true;
  if (o.metadata.deletionTimestamp !== n.metadata.deletionTimestamp) return true;
  if (o.status?.state !== n.status?.state || !deepEqual(o.status?.bootConfig, n.status?.bootConfig)) return true;
  return o.status?.currentInstall?.attempt !== n.status?.currentInstall?.attempt;
}
