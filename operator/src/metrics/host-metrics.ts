// Labels say host_namespace, not namespace: Prometheus sets `namespace` to the scraped pod's namespace.
// Fleet metrics read from the BareMetalHost cache: hosts by state (and since when), finished installs and their
// durations. Installs are counted from status.recentInstalls as it grows, by the leader only, so two replicas
// watching the same hosts do not count an install twice and a restart (a fresh list) counts nothing again.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { BAREMETALHOST_STATES, type BareMetalHost } from '@anvil/core/api';
import type { KubeObject, CacheReader, InformerHandlers } from '@anvil/core/kube';

type Host = BareMetalHost & KubeObject;
type RecentInstall = NonNullable<NonNullable<BareMetalHost['status']>['recentInstalls']>[number];

export interface HostMetricsOptions {
  hosts: CacheReader<Host> & { addHandlers(h: InformerHandlers<Host>): void };
  registry: Registry;
  isLeader: () => boolean;
  now?: () => number;
}

/** Install durations from a few minutes (a cloud image) to hours (a slow mirror). */
const DURATION_BUCKETS = [60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 14400];

export function registerHostMetrics(options: HostMetricsOptions): void {
  const { hosts, registry } = options;
  const now = options.now ?? Date.now;
  new Gauge({
    name: 'anvil_hosts',
    help: 'BareMetalHosts by namespace and state',
    labelNames: ['host_namespace', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const ns of new Set(hosts.list().map((h) => h.metadata.namespace ?? ''))) {
        for (const state of BAREMETALHOST_STATES) counts.set(`${ns}\0${state}`, 0);
      }
      for (const h of hosts.list()) {
        const key = `${h.metadata.namespace ?? ''}\0${h.status?.state ?? 'Pending'}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      for (const [key, n] of counts) {
        const [namespace, state] = key.split('\0') as [string, string];
        this.set({ host_namespace: namespace, state }, n);
      }
    },
  });
  new Gauge({
    name: 'anvil_host_install_running_seconds',
    help: 'How long the install attempt in progress has been running, per host (absent when none runs): for "stuck" alerts',
    labelNames: ['host_namespace', 'host', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const h of hosts.list()) {
        const state = h.status?.state;
        const current = h.status?.currentInstall;
        if (!current?.startedAt || current.finishedAt || (state !== 'Provisioning' && state !== 'Installing')) continue;
        this.set({ host_namespace: h.metadata.namespace ?? '', host: h.metadata.name ?? '', state }, Math.max(0, (now() - Date.parse(current.startedAt)) / 1000));
      }
    },
  });
  const installs = new Counter({
    name: 'anvil_installs_total',
    help: 'Finished install attempts by result (SUCCESS, WARN, FAIL), reason (Succeeded, InstallerFailed, Timeout, ...) and template',
    labelNames: ['host_namespace', 'template', 'result', 'reason'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'anvil_install_duration_seconds',
    help: 'Duration of finished install attempts, from entering Provisioning to the installer\'s final event',
    labelNames: ['host_namespace', 'template', 'result'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });

  const finished = (h: Host): RecentInstall[] => h.status?.recentInstalls ?? [];
  const id = (i: RecentInstall): string => i.installationId ?? `${i.attempt}`;
  hosts.addHandlers({
    onUpdate(oldHost, newHost) {
      if (!options.isLeader()) return;
      const seen = new Set(finished(oldHost).map(id));
      for (const install of finished(newHost)) {
        if (seen.has(id(install))) continue;
        const namespace = newHost.metadata.namespace ?? '';
        const template = newHost.spec?.templateRef?.name ?? '';
        const result = install.result ?? 'FAIL';
        installs.inc({ host_namespace: namespace, template, result, reason: install.reason ?? '' });
        if (install.durationSeconds !== undefined) durations.observe({ host_namespace: namespace, template, result }, install.durationSeconds);
      }
    },
  });
}
