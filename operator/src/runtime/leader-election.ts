// Leader election on a coordination.k8s.io/v1 Lease, with client-go's timing rules: a lease held by someone else is
// respected until leaseDuration has passed on *our* clock since we last saw it change; the leader renews every
// retryPeriod and gives up if it cannot renew within renewDeadline.
import type { Logger } from 'pino';
import { isAlreadyExists, isConflict, CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { microTime } from '@anvil/core/conditions';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** On graceful stop, hand the lease back so a standby takes over at once. */
  releaseOnStop?: boolean;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = KubeObject & { spec?: LeaseSpec };

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private observed: { record: string; at: number } | undefined;
  private lease: Lease | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private leading = false;

  constructor(
    private readonly client: KubeClient,
    private readonly config: LeaderElectionConfig,
    private readonly log: Logger,
  ) {
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationMs) throw new Error('leader election: renewDeadline must be shorter than leaseDuration');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Blocks until this replica leads (resolves true) or stop() is called (false). Then keeps renewing in the
   * background; `onLost` is called once if leadership is lost.
   */
  async acquire(onLost: (reason: string) => void): Promise<boolean> {
    this.log.info({ lease: `${this.config.namespace}/${this.config.name}`, identity: this.config.identity }, 'waiting for leadership');
    while (!this.stopped) {
      if (await this.tryAcquireOrRenew()) {
        this.leading = true;
        this.log.info({ identity: this.config.identity }, 'became leader');
        void this.renewLoop(onLost);
        return true;
      }
      await this.sleep(jitter(this.retryPeriodMs));
    }
    return false;
  }

  private async renewLoop(onLost: (reason: string) => void): Promise<void> {
    let lastRenew = Date.now();
    while (!this.stopped) {
      await this.sleep(this.retryPeriodMs);
      if (this.stopped) return;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = Date.now();
      } else if (Date.now() - lastRenew >= this.renewDeadlineMs || (this.lease?.spec?.holderIdentity ?? '') !== this.config.identity) {
        if (!this.leading) return;
        this.leading = false;
        const reason = `could not renew lease ${this.config.namespace}/${this.config.name} within ${this.renewDeadlineMs} ms`;
        this.log.error({ identity: this.config.identity }, reason);
        onLost(reason);
        return;
      }
    }
  }

  /** Stops campaigning/renewing; releases the lease when configured and we hold it. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (this.leading && this.config.releaseOnStop !== false) await this.release();
    this.leading = false;
  }

  private async release(): Promise<void> {
    const lease = this.lease;
    if (!lease || lease.spec?.holderIdentity !== this.config.identity) return;
    try {
      const now = microTime();
      await this.client.replace(CoreResources.lease, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
      });
      this.log.info({ identity: this.config.identity }, 'released leadership');
    } catch (err) {
      this.log.warn({ err: String(err) }, 'could not release the lease; the standby takes over when it expires');
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.config;
    const now = new Date();
    const leaseSeconds = Math.ceil(this.leaseDurationMs / 1000);
    try {
      const existing = await this.client.get<Lease>(CoreResources.lease, { namespace, name });
      if (!existing) {
        this.lease = await this.client.create<Lease>(CoreResources.lease, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { namespace, name },
          spec: { holderIdentity: identity, leaseDurationSeconds: leaseSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        this.observe(this.lease);
        return true;
      }
      this.lease = existing;
      this.observe(existing);
      const spec = existing.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      const durationMs = (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
      if (holder && holder !== identity && this.observed && this.observed.at + durationMs > Date.now()) return false;
      const takingOver = holder !== identity;
      const next: Lease = {
        ...existing,
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: leaseSeconds,
          acquireTime: takingOver ? microTime(now) : (spec.acquireTime ?? microTime(now)),
          renewTime: microTime(now),
          leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && holder ? 1 : 0),
        },
      };
      this.lease = await this.client.replace<Lease>(CoreResources.lease, next);
      this.observe(this.lease);
      return true;
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) this.log.warn({ err: String(err) }, 'lease request failed');
      return false;
    }
  }

  /** Remembers when the lease record last changed, on our own clock (clock skew between replicas cannot matter). */
  private observe(lease: Lease): void {
    const record = JSON.stringify(lease.spec ?? {});
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

const jitter = (ms: number): number => ms * (1 + Math.random() * 0.2);
