// A BareMetalHost driven through the state machine as the controller drives it, with in-memory ports, a clock the
// test moves, and what the boot-server would write (boot requests, installer verdicts): for the state machine's tests.
import type { BareMetalHost, BareMetalHostStatus } from '@anvil/core/api';
import type { BootConfig } from '@anvil/core/bootconfig';
import type { ReconcileResult } from '../../../runtime/result.js';
import { FixtureHostPorts } from '../fixture-ports.js';
import { runStateMachine, type HostContext } from '../states.js';

export const simConfig = { retryBaseMs: 1000, retryMaxMs: 60_000 };

export function simHost(overrides: Partial<BareMetalHost['spec']> = {}, name = 'node-01', created = '2026-01-01T00:00:00Z'): BareMetalHost {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name, namespace: 'lab', uid: `uid-${name}`, generation: 1, creationTimestamp: created },
    spec: { bootMACAddress: '52:54:00:12:34:01', templateRef: { name: 'ubuntu' }, provisioning: { revision: 1, allowed: true, timeoutSeconds: 600, maxRetries: 2 }, ...overrides },
  } as BareMetalHost;
}

/** A host the boot-server saw on the network and nobody declared: labelled discovered, without a template. */
export function discoveredHost(): BareMetalHost {
  const h = simHost();
  delete (h.spec as { templateRef?: unknown }).templateRef;
  h.metadata.labels = { 'anvil.dev/discovered': 'true' };
  return h;
}

export class HostSim {
  status: BareMetalHostStatus = {};
  now = new Date('2026-01-02T00:00:00Z');
  readonly ports = new FixtureHostPorts();
  /** Every result runStateMachine returned, in order (commitThenContinue included). */
  readonly results: ReconcileResult[] = [];

  constructor(public h: BareMetalHost) {
    this.ports.hosts = [h];
  }

  /** Replaces the host's spec (as an edit in Git would), keeping it the only host the ports know. */
  setHost(h: BareMetalHost): void {
    this.h = h;
    this.ports.hosts = [h];
  }

  /**
   * One reconcile as the controller runs it: a committed decision (new attempt) is saved and run again at once.
   * Returns the delay of a requeueAfter, undefined when the host is done.
   */
  async step(): Promise<number | undefined> {
    for (;;) {
      const ctx: HostContext = { host: this.h, status: this.status, now: this.now, ports: this.ports, config: simConfig };
      const result = await runStateMachine(ctx);
      this.results.push(result);
      if (result.kind === 'commitThenContinue') continue;
      if (result.kind === 'requeueWithBackoff') throw new Error('the state machine never asks for a backoff requeue');
      return result.kind === 'requeueAfter' ? result.ms : undefined;
    }
  }

  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  /** What the boot-server writes when the machine fetches its script. */
  boot(): void {
    this.advance(1);
    this.status.lastBootRequest = { time: this.now.toISOString(), clientIP: '10.0.0.5', path: '/boot.ipxe', served: 'InstallScript' };
  }

  /** The installer's verdict, as the boot-server records it. */
  finish(result: 'SUCCESS' | 'FAIL', description = 'done'): void {
    const ci = this.status.currentInstall!;
    ci.lastEvent = { name: 'subiquity/Install/install', type: 'finish', result, description: 'installing system', time: this.now.toISOString() };
    if (result === 'FAIL') ci.failure ??= { stage: 'curthooks', reason: description, event: 'cmd-install/stage-curthooks' };
    ci.result = result;
  }

  /** A nested step failed: the boot-server records the failure, the installer has not given its verdict yet. */
  failing(stage: string, reason: string): void {
    this.status.currentInstall!.failure = { stage, reason, event: `subiquity/Install/install/${stage}` };
    this.status.currentInstall!.lastEvent = { name: 'subiquity/Install/install/late', type: 'start', time: this.now.toISOString() };
  }

  published(): BootConfig | undefined {
    return this.ports.publishedBootConfig(this.h);
  }

  /** The states the host was moved into, in order (each transition records an event named after its state). */
  statesEntered(): string[] {
    return this.ports.events.map((e) => e.reason);
  }
}
