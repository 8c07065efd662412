// The two measurements of the memory benchmark (memory.ts): the boot-server with its embedded database (new data
// directory, installer traffic, restart) and the operator with N BareMetalHosts created at once.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClient, KubeObject } from '@anvil/core/kube';
import { freePort, type ControlPlane } from '../test/harness/control-plane.js';
import { ensureNamespace, waitFor } from '../test/harness/kube.js';
import { processMemory, toMiB, type PublishedInstall } from '../test/harness/memory.js';
import type { BenchContext } from './context.js';
import { macOf, createAll } from './lib/boot-fixture.js';
import { startNode, stopNode, type App, type Started } from './lib/compiled-app.js';
import { HostType, counterSum, createTemplate, hostObject } from './lib/operator.js';
import { memorySampler, treeMemory } from './lib/procs.js';

export interface BootServerOutcome {
  fresh: { peak: number; rss: number; cgroupPeak?: number };
  traffic: { peak: number; rss: number; events: number; seconds: number; cgroupPeak?: number };
  restart: { peak: number; rss: number; cgroupPeak?: number };
}

/** The boot-server of `app` on a new data directory, under installer traffic, then restarted on the same directory. */
export async function bootServer(ctx: BenchContext, cp: ControlPlane, app: App, label: string, installs: PublishedInstall[], namespace: string, cgroups: boolean, settleMs: number, eventsPerInstall: number): Promise<BootServerOutcome> {
  const dir = join(ctx.workDir, `boot-${label}`);
  const port = await freePort();
  const args = [
    app.entry('boot-server'),
    '--kubeconfig', cp.kubeconfigPath, '--namespace', namespace,
    '--http-host', '127.0.0.1', '--http-port', String(port), '--tftp-port', '0',
    '--asset-dir', join(dir, 'assets'), '--spool-dir', join(dir, 'spool'), '--data-dir', join(dir, 'history'),
  ];
  // The image's own template where it has one (next to the compiled shared package); never one from the environment.
  const options = { workDir: ctx.workDir, cwd: app.dir, port, probe: '/readyz', cgroups, env: { ANVIL_PGLITE_TEMPLATE: '', RATE_LIMIT_PER_SECOND: '0' } };
  const memory = (s: Started): { peak: number; rss: number } => {
    const m = processMemory(s.server.pid);
    if (!m) throw new Error(`${label}: the boot-server is gone:\n${s.server.logs().slice(-3000)}`);
    return m;
  };

  ctx.log(`memory: ${label} boot-server, new data directory`);
  const first = await startNode(`boot-server-${label}`, args, options);
  let fresh: BootServerOutcome['fresh'];
  let traffic: BootServerOutcome['traffic'];
  try {
    await sleep(settleMs);
    fresh = { ...memory(first), ...(first.cgroup ? { cgroupPeak: first.cgroup.maxUsage() } : {}) };
    ctx.log(`memory: ${label} boot-server, ${installs.length * eventsPerInstall} installer events`);
    const t0 = performance.now();
    await Promise.all(installs.map(async (install, i) => {
      for (let n = 0; n < eventsPerInstall; n++) {
        const res = await fetch(`${first.url}${install.webhookPath}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ origin: 'curtin', name: `cmd-install/stage-${n % 7}/step-${n}`, event_type: n % 2 ? 'finish' : 'start', ...(n % 2 ? { result: 'SUCCESS' } : {}), timestamp: 1_700_000_000 + i + n / 1000, description: 'memory benchmark' }),
        });
        if (res.status !== 200) throw new Error(`${label}: event answered ${res.status}: ${await res.text()}`);
      }
    }));
    const events = installs.length * eventsPerInstall;
    await waitFor(`${label}: every event in the history`, async () => {
      const text = await (await fetch(`${first.url}/metrics`)).text();
      return counterSum(text, 'anvil_sink_records_total', { sink: 'history' }) >= events && counterSum(text, 'anvil_spool_sink_backlog_bytes', { sink: 'history' }) === 0;
    }, 600_000, 200);
    const seconds = (performance.now() - t0) / 1000;
    await sleep(settleMs);
    traffic = { ...memory(first), events, seconds, ...(first.cgroup ? { cgroupPeak: first.cgroup.maxUsage() } : {}) };
  } finally {
    await stopNode(first);
  }

  ctx.log(`memory: ${label} boot-server, restarted on its data directory`);
  const second = await startNode(`boot-server-${label}-restart`, args, options);
  let restart: BootServerOutcome['restart'];
  try {
    await sleep(settleMs);
    restart = { ...memory(second), ...(second.cgroup ? { cgroupPeak: second.cgroup.maxUsage() } : {}) };
  } finally {
    await stopNode(second);
  }
  return { fresh, traffic, restart };
}

const settledHost = (h: KubeObject & { status?: { state?: string; conditions?: Array<{ type: string; status: string }> } }): boolean =>
  h.status?.state === 'Provisioning' && !!h.status.conditions?.some((c) => c.type === 'BootConfigReady' && c.status === 'True');

export interface OperatorOutcome {
  peakRss: number;
  peakPss: number;
  settledRss: number;
  settledPss: number;
  cgroupPeak?: number;
  seconds: number;
}

/** The operator of `app` with `hosts` BareMetalHosts created at once in a namespace of its own, until all are settled. */
export async function operator(ctx: BenchContext, cp: ControlPlane, client: KubeClient, app: App, namespace: string, hosts: number, macBase: number, cgroups: boolean, nodeOptions: string, settleMs: number): Promise<OperatorOutcome> {
  await ensureNamespace(client, namespace);
  const port = await freePort();
  const started = await startNode(`operator-${namespace}`, [
    app.entry('operator'),
    '--kubeconfig', cp.kubeconfigPath, '--namespace', namespace, '--leader-elect', 'false',
    '--metrics-host', '127.0.0.1', '--metrics-port', String(port), '--boot-server-url', 'http://10.0.0.2:8080',
  ], { workDir: ctx.workDir, cwd: app.dir, port, probe: '/readyz', cgroups, env: { NODE_OPTIONS: nodeOptions } });
  try {
    await createTemplate(client, namespace);
    const sampler = memorySampler(started.server.pid, 250);
    const t0 = performance.now();
    await createAll(hosts, 16, (i) => client.create(HostType, hostObject(namespace, `node-${String(i).padStart(5, '0')}`, macOf(macBase + i))));
    await waitFor(`${hosts} hosts settled in ${namespace}`, async () => {
      const list = await client.list<KubeObject & { status?: { state?: string } }>(HostType, { namespace });
      return list.items.filter(settledHost).length === hosts;
    }, 1_800_000, 2000);
    const seconds = (performance.now() - t0) / 1000;
    await waitFor('the operator idle', async () => counterSum(await (await fetch(`${started.url}/metrics`)).text(), 'workqueue_depth') === 0, 600_000, 500);
    await sleep(settleMs);
    const peak = sampler.stop();
    const settled = treeMemory(started.server.pid);
    return {
      peakRss: peak.peakRssMiB,
      peakPss: peak.peakPssMiB,
      settledRss: settled.rssKiB / 1024,
      settledPss: settled.pssKiB / 1024,
      seconds,
      ...(started.cgroup ? { cgroupPeak: toMiB(started.cgroup.maxUsage()) } : {}),
    };
  } finally {
    await stopNode(started);
  }
}
