// The rollout controller owns one concern: bringing a template's newest revision to the hosts that follow it, as its
// spec.rollout says. Each reconcile reads the hosts from the cache, probes the health of the current wave's installed
// hosts, asks the diff gate while a new revision waits, runs one step of the rollout state machine
// (operator/src/rollout) and carries out its actions: pin and reinstall hosts, raise RolloutHealthy=False. Every
// decision goes to status.rollout.audit, an Event on the template and anvil_rollout_decisions_total.
import { Counter, type Registry } from 'prom-client';
import { AnvilResources, ROLLOUT_CONDITIONS, type AutoinstallTemplate, type AutoinstallTemplateStatus, type BareMetalHost } from '@anvil/core/api';
import { setCondition } from '@anvil/core/conditions';
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

export interface RolloutDeps {
  client: KubeClient;
  templates: CacheReader<AutoinstallTemplate>;
  hosts: CacheReader<BareMetalHost>;
  render: PinnedRender;
  prober: Prober;
  recorder: EventRecorder;
  registry?: Registry;
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
    const newest = template.status?.revisions?.[0];
    if (!newest) return this.hold(status, 'waiting for the template\'s first valid revision');

    // Hosts that were never installed are not the rollout's: their first install renders the template as it is.
    const hosts = followers(template, this.deps.hosts.list(template.metadata.namespace)).filter((h) => revisionOfHost(h) !== undefined);
    const core = fromApi(previous);
    const checks = healthChecks(spec);
    const health = await checkHealth(this.underCheck(core, hosts), previous?.health ?? [], checks, healthPolicy(spec), now, this.deps.prober);
    const views = hosts.map((h) => hostView(h, health.entries, checks.length > 0));

    let change = previous?.change;
    let gate: GateVerdict = { verdict: 'allowed', reason: 'judged when the rollout started' };
    const judging = core.phase === 'Idle' || core.phase === 'AwaitingApproval' || core.targetRevision !== newest.contentHash;
    if (judging && views.some((v) => v.revision !== newest.contentHash)) {
      const before = mostCommon(views.map((v) => v.revision).filter((r): r is string => r !== undefined && r !== newest.contentHash));
      const sample = hosts.find((h) => revisionOfHost(h) === before);
      const reading = await readChange(this.deps.render, template, sample, before, newest.contentHash);
      change = reading.parts.slice(0, 64);
      const approved = spec.approvedRevision !== undefined ? template.status?.revisions?.find((r) => r.revision === spec.approvedRevision)?.contentHash : undefined;
      gate = gateVerdict({ revision: newest.contentHash, changes: [reading.class], ...(approved ? { approvedRevision: approved } : {}) }, gatePolicy(spec));
      gate = { ...gate, reason: gate.reason.replace(newest.contentHash, String(newest.revision)) } as GateVerdict;
    }

    const snapshot: RolloutSnapshot = { now, policy, desiredRevision: newest.contentHash, gate, hosts: views };
    const outcome = step(snapshot, core);
    const audit = [...outcome.audit];
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
