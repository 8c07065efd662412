// The rollout controller owns one concern: bringing a template's newest revision (or the one spec.rollout.revision
// names) to the hosts that follow it, as its spec.rollout says. Each reconcile reads the hosts from the cache, probes
// the health of the current wave's installed hosts, asks the diff gate while a new revision waits, runs one step of
// the rollout state machine (operator/src/rollout) and carries out its actions: pin and reinstall hosts, raise
// RolloutHealthy=False. Every decision goes to status.rollout.audit, an Event on the template and
// anvil_rollout_decisions_total.
import { randomUUID } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import { AnvilResources, ROLLOUT_CONDITIONS, type AutoinstallTemplate, type AutoinstallTemplateStatus, type BareMetalHost } from '@anvil/core/api';
import { setCondition } from '@anvil/core/conditions';
import type { HistoryStore } from '@anvil/core/db';
import type { CacheReader, KubeClient } from '@anvil/core/kube';
import { gateVerdict, step, windowProblem, type GateVerdict, type RolloutSnapshot } from '../../rollout/index.js';
import type { EventRecorder } from '../../runtime/events.js';
import { done, requeueAfter, type ReconcileResult } from '../../runtime/result.js';
import { StatusReconciler, type StatusKind } from '../../runtime/status-reconciler.js';
import { readChange, type PinnedRender } from './change.js';
import { checkHealth, type Prober } from './health.js';
import { followers, hostView, revisionOfHost } from './host-views.js';
import { alreadyAsked, askToInstall } from './install-action.js';
import { gatePolicy, healthChecks, healthPolicy, rolloutPolicy } from './policy.js';
import { auditEntries, fromApi, toApi, type ApiRolloutStatus } from './rollout-status.js';

export type RolloutHistory = Pick<HistoryStore, 'recordRolloutDecisions'>;

export interface RolloutDeps {
  client: KubeClient;
  templates: CacheReader<AutoinstallTemplate>;
  hosts: CacheReader<BareMetalHost>;
  render: PinnedRender;
  prober: Prober;
  recorder: EventRecorder;
  registry?: Registry;
  /** The install history: every decision is recorded there before it is carried out. */
  history?: RolloutHistory;
  /** This operator replica, named in each decision's trigger. */
  identity?: string;
  now?: () => Date;
}

const WARNINGS = new Set(['RolloutHalted', 'RollbackFailed', 'HostUnhealthy']);

export class RolloutReconciler extends StatusReconciler<AutoinstallTemplate, AutoinstallTemplateStatus> {
  constructor(deps: RolloutDeps) {
    // Another controller owns observedGeneration (validity). Decisions are made on what was read: a conflict reruns
    // the reconcile on fresh data, and a cache still behind our last write is not trusted (a wave started twice).
    super({ client: deps.client, type: AnvilResources.autoinstallTemplate, cache: deps.templates, kind: new Rollout(deps), observedGeneration: false, rebaseOnConflict: false, readAfterOwnWrite: true });
  }
}

class Rollout implements StatusKind<AutoinstallTemplate, AutoinstallTemplateStatus> {
  private readonly decisions: Counter<'type'> | undefined;
  private readonly now: () => Date;

  constructor(private readonly deps: RolloutDeps) {
    this.now = deps.now ?? (() => new Date());
    this.decisions = deps.registry
      ? new Counter({ name: 'anvil_rollout_decisions_total', help: 'Decisions of template rollouts, by type (GateVerdict, WaveStarted, RolloutHalted, RollbackStarted, ...).', labelNames: ['type'], registers: [deps.registry] })
      : undefined;
  }

  async observe(template: AutoinstallTemplate, status: AutoinstallTemplateStatus): Promise<ReconcileResult> {
    const spec = template.spec.rollout;
    if (!spec) {
      delete status.rollout;
      status.conditions = (status.conditions ?? []).filter((c) => c.type !== ROLLOUT_CONDITIONS.RolloutHealthy);
      return done();
    }
    const now = this.now();
    const previous = status.rollout;
    const policy = rolloutPolicy(spec);
    const badWindow = policy.windows.map((w, i) => ({ i, problem: windowProblem(w) })).find((w) => w.problem);
    if (badWindow) return this.hold(status, `spec.rollout.maintenanceWindows[${badWindow.i}]: ${badWindow.problem}`);
    // The template controller records a new content as a revision for the generation it observed: until it has seen
    // this generation, status.revisions may lack the revision the spec now asks for (and an old one would roll out).
    if (template.status?.observedGeneration !== template.metadata.generation) return this.hold(status, `waiting for generation ${template.metadata.generation} of the template to be validated`);
    const kept = template.status?.revisions ?? [];
    if (!kept.length) return this.hold(status, 'waiting for the template\'s first valid revision');
    // The revision to roll out: the newest, or the one spec.rollout.revision names (a manual rollback).
    const desired = spec.revision !== undefined ? kept.find((r) => r.revision === spec.revision) : kept[0];
    if (!desired) return this.hold(status, `spec.rollout.revision ${spec.revision}: the template keeps no such revision (kept: ${kept.map((r) => r.revision).join(', ')})`);

    // Hosts that were never installed are not the rollout's: their first install renders the template as it is.
    const hosts = followers(template, this.deps.hosts.list(template.metadata.namespace)).filter((h) => revisionOfHost(h) !== undefined);
    const core = fromApi(previous);
    const checks = healthChecks(spec);
    const health = await checkHealth(this.underCheck(core, hosts), previous?.health ?? [], checks, healthPolicy(spec), now, this.deps.prober);
    const views = hosts.map((h) => hostView(h, health.entries, checks.length > 0));

    let change = previous?.change;
    let gate: GateVerdict = { verdict: 'allowed', reason: 'judged when the rollout started' };
    const judging = core.phase === 'Idle' || core.phase === 'AwaitingApproval' || core.targetRevision !== desired.contentHash;
    if (judging && views.some((v) => v.revision !== desired.contentHash)) {
      const before = mostCommon(views.map((v) => v.revision).filter((r): r is string => r !== undefined && r !== desired.contentHash));
      const sample = hosts.find((h) => revisionOfHost(h) === before);
      const reading = await readChange(this.deps.render, template, sample, before, desired.contentHash);
      change = reading.parts.slice(0, 64);
      // Naming a revision to roll out (a manual rollback) approves it as well.
      const approvedNumber = spec.revision ?? spec.approvedRevision;
      const approved = approvedNumber !== undefined ? kept.find((r) => r.revision === approvedNumber)?.contentHash : undefined;
      gate = gateVerdict({ revision: desired.contentHash, changes: [reading.class], ...(approved ? { approvedRevision: approved } : {}) }, gatePolicy(spec));
      gate = { ...gate, reason: gate.reason.replace(desired.contentHash, String(desired.revision)) } as GateVerdict;
    }

    const snapshot: RolloutSnapshot = { now, policy, desiredRevision: desired.contentHash, gate, hosts: views };
    const outcome = step(snapshot, core);
    const audit = [...outcome.audit];
    // Recorded before anything is carried out: a decision the history lacks was never acted on (the reconcile retries).
    const why = trigger(spec, desired.revision, this.deps.identity);
    await this.deps.history?.recordRolloutDecisions(
      audit.map((r) => ({ id: randomUUID(), template: { namespace: template.metadata.namespace!, name: template.metadata.name! }, time: now, type: r.type, message: r.message, revision: desired.revision, ...(r.hosts ? { hosts: r.hosts } : {}), trigger: why(r.type) })),
    );
    for (const action of outcome.actions) {
      if (action.kind === 'alert') continue;
      const host = hosts.find((h) => h.metadata.name === action.host);
      const number = template.status?.revisions?.find((r) => r.contentHash === action.revision)?.revision;
      if (!host) continue;
      if (number === undefined) {
        audit.push({ type: 'RollbackFailed', message: `${action.host}: revision ${action.revision.slice(0, 19)} is no longer kept; it cannot be installed`, hosts: [action.host] });
        continue;
      }
      if (!alreadyAsked(host, number)) await askToInstall(this.deps.client, host, number);
    }
    const alert = outcome.actions.find((a) => a.kind === 'alert');

    const entries = auditEntries(audit, now);
    status.rollout = toApi(outcome.status, template, { ...(change ? { change } : {}), health: health.entries, audit: [...entries.reverse(), ...(previous?.audit ?? [])] });
    const healthy = outcome.status.phase !== 'RollbackFailed';
    status.conditions = setCondition(
      status.conditions,
      healthy
        ? { type: ROLLOUT_CONDITIONS.RolloutHealthy, status: 'True', reason: outcome.status.phase, message: outcome.status.message.slice(0, 1024) || outcome.status.phase }
        : { type: ROLLOUT_CONDITIONS.RolloutHealthy, status: 'False', reason: alert?.kind === 'alert' ? alert.reason : 'RollbackFailed', message: outcome.status.message.slice(0, 1024) },
      template.metadata.generation,
    );
    for (const record of audit) {
      this.deps.recorder.event(template, WARNINGS.has(record.type) ? 'Warning' : 'Normal', record.type, 'Rollout', record.hosts?.length ? `${record.message} (${record.hosts.join(', ')})` : record.message);
      this.decisions?.inc({ type: record.type });
    }
    const waits = [outcome.requeueAfterMs, health.nextInMs].filter((ms): ms is number => ms !== undefined);
    // a pause of 0 s is over at once: look again right away rather than wait for some host to change
    return waits.length ? requeueAfter(Math.max(1, Math.min(...waits))) : done();
  }

  /** The hosts whose health is being watched: the current wave's, or the failed hosts being rolled back. */
  private underCheck(core: ReturnType<typeof fromApi>, hosts: readonly BareMetalHost[]): BareMetalHost[] {
    const expected = core.phase === 'Rolling' ? core.targetRevision : core.phase === 'RollingBack' ? core.previousRevision : undefined;
    const names = core.phase === 'Rolling' ? (core.waves[core.wave] ?? []) : core.phase === 'RollingBack' ? core.failedHosts : [];
    return hosts.filter((h) => names.includes(h.metadata.name!) && h.status?.state === 'Provisioned' && revisionOfHost(h) === expected);
  }

  private hold(status: AutoinstallTemplateStatus, message: string): ReconcileResult {
    const rollout: ApiRolloutStatus = { ...(status.rollout ?? { phase: 'Idle' }), message };
    status.rollout = rollout;
    return done();
  }
}

function mostCommon(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/** Who or what triggered a decision, as the install history records it. */
function trigger(spec: NonNullable<AutoinstallTemplate['spec']['rollout']>, revision: number, identity: string | undefined): (type: string) => string {
  const by = `rollout controller${identity ? ` ${identity}` : ''}`;
  return (type) => {
    if (type === 'GateVerdict') {
      if (spec.revision === revision) return `spec.rollout.revision=${revision} (a manual rollout), ${by}`;
      if (spec.approvedRevision === revision) return `spec.rollout.approvedRevision=${revision}, ${by}`;
      return `revision ${revision} of the template, ${by}`;
    }
    if (type === 'HostUnhealthy' || type === 'RolloutHalted' || type === 'RollbackStarted' || type === 'RollbackFailed') return `install results and health checks, ${by}`;
    return `spec.rollout (batchSize ${spec.batchSize ?? 1}, pauseSeconds ${spec.pauseSeconds ?? 0}), ${by}`;
  };
}
