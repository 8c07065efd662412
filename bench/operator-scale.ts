// Benchmark 5: the operator (a real process) on the real kube-apiserver with N BareMetalHosts created at once: the
// time until every host has its first state and until every host is settled (Provisioning with its boot config
// published: all the operator does before a machine boots), the operator's memory, and the API requests it made
// per host, counted by the API server itself (audit log, filtered on the operator's User-Agent). Then a quiet
// window: reconciles and API requests per second once nothing changes (watch-driven: should be none).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import type { KubeObject } from '@anvil/core/kube';
import { startControlPlane, type ControlPlane } from '../test/harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds } from '../test/harness/kube.js';
import type { BenchContext } from './context.js';
import { ROOT } from './lib/anchors.js';
import { createAll, macOf } from './lib/boot-fixture.js';
import { compile } from './lib/compiled-app.js';
import { HostType, counterSum, createTemplate, hostObject, startOperator } from './lib/operator.js';
import { auditCount, totalRequests, untilIdle, withoutCacheRequests } from './lib/operator-activity.js';
import { memorySampler, treeMemory } from './lib/procs.js';
import type { BenchmarkResult, Row } from './lib/results.js';

const NAMESPACE = 'bench';
type Host = BareMetalHost & KubeObject;

interface ScaleOutcome {
  hosts: number;
  createSeconds: number;
  firstStateSeconds: number;
  settledSeconds: number;
  idleSeconds: number;
  reconcilesPerHost: number;
  peakRssMiB: number;
  idleRssMiB: number;
  settledRssMiB: number;
  requestsPerHost: number;
  byVerb: Record<string, number>;
  quietSeconds: number;
  quietReconcilesPerSec: number;
  quietRequestsPerSec: number;
  /** A second operator started on the settled hosts (a restart or a failover): every host reconciled once more. */
  restart: PhaseOutcome;
  /** That operator's first periodic resync: every cached object handed to the controllers again. */
  resync: PhaseOutcome;
}

interface PhaseOutcome {
  seconds: number;
  hostReconciles: number;
  /** Mean time of one host reconcile (controller_runtime_reconcile_time_seconds), when measured. */
  meanReconcileMs?: number;
  /** API requests other than the list and watch of each cache. */
  requests: number;
  byVerb: Record<string, number>;
  rssMiB: number;
}

const HOST_RECONCILES = (text: string): number => counterSum(text, 'controller_runtime_reconcile_total', { controller: 'baremetalhost' });

const settled = (h: Host): boolean => h.status?.state === 'Provisioning' && !!h.status.conditions?.some((c) => c.type === 'BootConfigReady' && c.status === 'True');

async function scale(ctx: BenchContext, n: number, quietSeconds: number, resyncSeconds: number, entry: string | undefined): Promise<ScaleOutcome> {
  const policy = join(ctx.workDir, 'audit-policy.yaml');
  const auditLog = join(ctx.workDir, `audit-${n}.log`);
  writeFileSync(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: ["RequestReceived"]\nrules:\n  - level: Metadata\n');
  const cp: ControlPlane = await startControlPlane({ apiServerArgs: ['--audit-policy-file', policy, '--audit-log-path', auditLog, '--audit-log-maxsize', '0'] });
  const watchStop: Array<() => void> = [];
  try {
    const client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, NAMESPACE);
    const operator = await startOperator({ kubeconfig: cp.kubeconfigPath, namespace: NAMESPACE, bootServerURL: 'http://10.0.0.2:8080', workDir: ctx.workDir, ...(entry ? { entry } : {}), ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
    await createTemplate(client, NAMESPACE);
    await sleep(1000); // let the template's reconcile and its writes finish before counting
    const idleRssMiB = treeMemory(operator.server.pid).rssKiB / 1024;

    // One watch of our own tells when every host has a state and when every host is settled.
    const withState = new Set<string>();
    const done = new Set<string>();
    let firstStateAt = 0;
    let settledAt = 0;
    const { resourceVersion } = await client.list(HostType, { namespace: NAMESPACE, limit: 1 });
    const t0 = performance.now();
    // The API server may close a watch (e.g. a consumer it finds too slow while it is busy): resume from the last
    // resourceVersion seen, like an informer; only a watch that cannot resume (410 Gone) fails the benchmark.
    let lastRV = resourceVersion;
    let watchEnded: string | undefined;
    const startWatch = (): void => {
      const watch = client.watch<Host>(HostType, { namespace: NAMESPACE, resourceVersion: lastRV, allowWatchBookmarks: true }, (ev) => {
        if (ev.object.metadata?.resourceVersion) lastRV = ev.object.metadata.resourceVersion;
        if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') return;
        const name = ev.object.metadata.name!;
        if (ev.object.status?.state) withState.add(name);
        if (settled(ev.object)) done.add(name);
        if (!firstStateAt && withState.size === n) firstStateAt = performance.now();
        if (!settledAt && done.size === n) settledAt = performance.now();
      });
      watchStop.push(() => watch.stop());
      void watch.done.then((err) => {
        if (stopped) return;
        if (err && /410|Gone|too old/i.test(err.message)) watchEnded = err.message;
        else startWatch();
      });
    };
    let stopped = false;
    watchStop.push(() => (stopped = true));
    startWatch();

    const before = auditCount(auditLog, 0);
    const sampler = memorySampler(operator.server.pid, 250);
    await createAll(n, 16, (i) => client.create(HostType, hostObject(NAMESPACE, `node-${String(i).padStart(5, '0')}`, macOf(i))));
    const createSeconds = (performance.now() - t0) / 1000;
    const deadline = Date.now() + (ctx.quick ? 120_000 : 1_800_000);
    let lastLog = Date.now();
    while (!settledAt) {
      if (watchEnded) throw new Error(`the benchmark's watch of the hosts ended and cannot resume: ${watchEnded}`);
      if (Date.now() > deadline) throw new Error(`${n} hosts: only ${withState.size} have a state and ${done.size} are settled after ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      if (Date.now() - lastLog > 10_000) {
        ctx.log(`operator-scale ${n}: ${withState.size} with a state, ${done.size} settled after ${((performance.now() - t0) / 1000).toFixed(0)} s`);
        lastLog = Date.now();
      }
      await sleep(100);
    }
    // Then until the operator is idle: its work queues empty and no reconcile for 3 s (follow-up reconciles that
    // the hosts' own status writes cause still run after the last host settled).
    const { idleAt, reconciles } = await untilIdle(operator, deadline, `${n} hosts`);
    const mem = sampler.stop();
    const settledRssMiB = treeMemory(operator.server.pid).rssKiB / 1024;
    const burst = auditCount(auditLog, before.end);
    const reconcilesBefore = reconciles;
    await sleep(quietSeconds * 1000);
    const quiet = auditCount(auditLog, burst.end);
    const reconcilesAfter = counterSum(await operator.metrics(), 'controller_runtime_reconcile_total');
    await operator.server.stop();

    // A restart (or a failover): a new operator lists everything and reconciles every host. Nothing changed, so
    // nothing should be rendered or written. Then its first periodic resync, the same again.
    const restartAudit = auditCount(auditLog, quiet.end);
    const restartT0 = performance.now();
    const second = await startOperator({ kubeconfig: cp.kubeconfigPath, namespace: NAMESPACE, bootServerURL: 'http://10.0.0.2:8080', workDir: ctx.workDir, resyncSeconds, logName: 'operator-restarted.log', ...(entry ? { entry } : {}) });
    const restartDeadline = Date.now() + resyncSeconds * 1000;
    while (HOST_RECONCILES(await second.metrics()) < n) {
      if (Date.now() > restartDeadline) throw new Error(`${n} hosts: the restarted operator did not reconcile every host before its first resync (${resyncSeconds} s)`);
      await sleep(200);
    }
    const restartIdle = await untilIdle(second, restartDeadline, `${n} hosts after a restart`);
    const afterRestart = auditCount(auditLog, restartAudit.end);
    const restartHostReconciles = HOST_RECONCILES(await second.metrics());
    const restart: PhaseOutcome = {
      seconds: (restartIdle.idleAt - restartT0) / 1000,
      hostReconciles: restartHostReconciles,
      requests: totalRequests(withoutCacheRequests(afterRestart.byVerb)),
      byVerb: afterRestart.byVerb,
      rssMiB: treeMemory(second.server.pid).rssKiB / 1024,
    };
    const resyncDeadline = Date.now() + (resyncSeconds + 600) * 1000;
    const timeBefore = counterSum(await second.metrics(), 'controller_runtime_reconcile_time_seconds_sum', { controller: 'baremetalhost' });
    // Timed by the operator's own histogram (the sum of its host reconciles), not by polling: the polling costs the
    // operator more CPU than the resync does.
    for (;;) {
      const count = HOST_RECONCILES(await second.metrics());
      if (count >= restartHostReconciles + n) break;
      if (Date.now() > resyncDeadline) throw new Error(`${n} hosts: the periodic resync reconciled ${count - restartHostReconciles} hosts`);
      await sleep(100);
    }
    await untilIdle(second, resyncDeadline, `${n} hosts during a resync`);
    const afterResync = auditCount(auditLog, afterRestart.end);
    const afterText = await second.metrics();
    const hostReconciles = HOST_RECONCILES(afterText) - restartHostReconciles;
    const resync: PhaseOutcome = {
      seconds: counterSum(afterText, 'controller_runtime_reconcile_time_seconds_sum', { controller: 'baremetalhost' }) - timeBefore,
      hostReconciles,
      meanReconcileMs: ((counterSum(afterText, 'controller_runtime_reconcile_time_seconds_sum', { controller: 'baremetalhost' }) - timeBefore) / hostReconciles) * 1000,
      requests: totalRequests(withoutCacheRequests(afterResync.byVerb)),
      byVerb: afterResync.byVerb,
      rssMiB: treeMemory(second.server.pid).rssKiB / 1024,
    };
    await second.server.stop();
    return {
      hosts: n,
      createSeconds,
      firstStateSeconds: (firstStateAt - t0) / 1000,
      settledSeconds: (settledAt - t0) / 1000,
      idleSeconds: (idleAt - t0) / 1000,
      reconcilesPerHost: reconciles / n,
      peakRssMiB: mem.peakRssMiB,
      idleRssMiB,
      settledRssMiB,
      requestsPerHost: burst.total / n,
      byVerb: burst.byVerb,
      quietSeconds,
      quietReconcilesPerSec: (reconcilesAfter - reconcilesBefore) / quietSeconds,
      // The metrics scrape is ours, not the operator's; audit counts only the operator's User-Agent.
      quietRequestsPerSec: quiet.total / quietSeconds,
      restart,
      resync,
    };
  } finally {
    for (const stop of watchStop) stop();
    await cp.stop();
  }
}

/**
 * Host counts: quick 50; full 1000 and 5000 (about 6 minutes together on 2 cores, with the restart and the resync;
 * 10000 takes about 10 more, see docs/benchmarks.md), or ANVIL_BENCH_HOSTS="1000,10000".
 */
function hostCounts(quick: boolean): number[] {
  const env = process.env.ANVIL_BENCH_HOSTS;
  if (env) return env.split(',').map(Number).filter((x) => x > 0);
  return quick ? [50] : [1000, 5000];
}

export async function operatorScale(ctx: BenchContext): Promise<BenchmarkResult> {
  const quietSeconds = ctx.quick ? 5 : 30;
  const rows: Row[] = [];
  const notes: string[] = [];
  // The operator as the image runs it (compiled, plain node), unless ANVIL_BENCH_OPERATOR=source: from the sources,
  // tsx's loader adds to every process of the tree (1,000 hosts: 385-445 instead of 311 MiB idle, 587-608 instead of 470 peak).
  const fromSource = process.env.ANVIL_BENCH_OPERATOR === 'source';
  const entry = fromSource ? undefined : (await compile(ctx, ROOT, join(ctx.workDir, 'app'), 'the working tree')).entry('operator');
  notes.push(fromSource ? 'The operator ran from the sources through tsx (ANVIL_BENCH_OPERATOR=source).' : 'The operator ran compiled (tsc -b, `node operator/dist/main.js`), as the image runs it.');
  for (const n of hostCounts(ctx.quick)) {
    // The restarted operator's resync period: long enough that its first resync comes after the restart's reconciles.
    const resyncSeconds = Number(process.env.ANVIL_BENCH_RESYNC_SECONDS) || (ctx.quick ? 15 : Math.max(60, Math.ceil(n / 50)));
    const o = await scale(ctx, n, quietSeconds, resyncSeconds, entry);
    const setting = `${n.toLocaleString('en-US')} hosts`;
    const row = (metric: string, unit: string, better: 'higher' | 'lower', anvil: number): void => void rows.push({ setting, metric, unit, better, anvil, anchors: {} });
    row('create all (16 parallel clients)', 's', 'lower', o.createSeconds);
    row('until every host has a state', 's', 'lower', o.firstStateSeconds);
    row('until every host is settled (boot config published)', 's', 'lower', o.settledSeconds);
    row('until the operator is idle (queues empty)', 's', 'lower', o.idleSeconds);
    row('hosts settled per second', 'hosts/s', 'higher', n / o.settledSeconds);
    row('reconciles per host (all controllers, creation to idle)', 'reconciles', 'lower', o.reconcilesPerHost);
    row('API requests per host (creation to idle)', 'requests', 'lower', o.requestsPerHost);
    row('operator memory before the hosts (RSS, with render workers)', 'MiB', 'lower', o.idleRssMiB);
    row('operator peak memory (RSS, with render workers)', 'MiB', 'lower', o.peakRssMiB);
    row('operator memory when settled (RSS, with render workers)', 'MiB', 'lower', o.settledRssMiB);
    row(`steady state: reconciles per second (${quietSeconds} s window)`, 'reconciles/s', 'lower', o.quietReconcilesPerSec);
    row(`steady state: API requests per second (${quietSeconds} s window)`, 'requests/s', 'lower', o.quietRequestsPerSec);
    row('operator restarted on the settled hosts: until idle', 's', 'lower', o.restart.seconds);
    row('operator restarted: API requests besides its list+watch of each cache', 'requests', 'lower', o.restart.requests);
    row('periodic resync of every host: time in host reconciles (sum)', 's', 'lower', o.resync.seconds);
    row('periodic resync: mean host reconcile time', 'ms', 'lower', o.resync.meanReconcileMs ?? 0);
    row('periodic resync: host reconciles', 'reconciles', 'lower', o.resync.hostReconciles);
    row('periodic resync: API requests', 'requests', 'lower', o.resync.requests);
    notes.push(
      `${setting}: operator requests per host by verb and resource: ${Object.entries(o.byVerb)
        .filter(([, v]) => v / n >= 0.01)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${(v / n).toFixed(2)}`)
        .join(', ')} (plus ${Object.entries(o.byVerb).filter(([, v]) => v / n < 0.01).reduce((t, [, v]) => t + v, 0)} requests in all for the rest, e.g. watches restarted).`,
    );
    const verbs = (byVerb: Record<string, number>): string => Object.entries(byVerb).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    notes.push(`${setting}: requests of the restarted operator: ${verbs(o.restart.byVerb)}; during its resync: ${verbs(o.resync.byVerb)}.`);
    ctx.log(`operator-scale ${setting}: settled in ${o.settledSeconds.toFixed(1)} s, ${o.requestsPerHost.toFixed(2)} requests/host, peak RSS ${o.peakRssMiB.toFixed(0)} MiB`);
  }
  notes.push(
    'No anchor: there is no other BareMetalHost operator to run here (metal3\'s baremetal-operator needs Ironic). The numbers stand on their own.',
    'The operator runs as its own process (operator/src/main.ts, log level info, 4 workers per controller, leader election off) against kube-apiserver 1.20.2 and etcd (--unsafe-no-fsync) on the same 2 cores, with the load generator (16 parallel creates) and our watch.',
    '"settled": state Provisioning with BootConfigReady=True, i.e. the host was validated, its template rendered in the sandbox, the new attempt saved, the boot config Secret published and the status written.',
    'API requests are counted by the API server (audit log at level Metadata, the operator\'s User-Agent only; a watch counts once when it starts). Memory is the RSS of the operator and its render worker processes, sampled every 250 ms.',
    '"idle": every work queue empty and no reconcile for 3 s (polled on the operator\'s /metrics every 500 ms). Steady state: the operator\'s controller_runtime_reconcile_total and its audited requests during a window after that (periodic resync is every 600 s, outside the window).',
    'Restart and resync: the operator is stopped and a new one started on the settled hosts (as after a crash or a failover, with --resync-period set so its first resync comes after the restart\'s reconciles: ANVIL_BENCH_RESYNC_SECONDS, default max(60, hosts/50) s); every host is reconciled again, then again by the resync. Nothing changed, so nothing should be rendered or written: the requests counted are all but the list and watch each cache starts with.',
  );
  return {
    name: 'operator-scale',
    title: '5. Operator scale on the real API server',
    anchorNames: [],
    rows,
    commands: [`npm run bench -- --only operator-scale${ctx.quick ? ' --quick' : ''}   # ANVIL_BENCH_HOSTS=1000,10000 to choose the sizes`],
    notes,
    load: { before: 0, after: 0 },
    seconds: 0,
  };
}
