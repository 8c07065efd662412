// The operator process: configuration, wiring and signal handling only.
import { RestKubeClient } from '@anvil/core/kube/rest-client';
import { exitAfterFailedStart, loadKubeConfigOrExplain, urlHostPort } from '@anvil/core/startup';
import { createLogger } from '@anvil/core/logging';
import { helpText, loadConfig } from './config.js';
import { configOrExit } from '@anvil/core/config';
import { registerControllers } from './controllers/index.js';
import { Manager } from './runtime/manager.js';
import { historyRouter } from '@anvil/core/history-api';
import { openHistoryStore } from '@anvil/core/db';
import { CertificateManager } from './controllers/certificates/certificate-manager.js';
import { registerHostMetrics } from './metrics/host-metrics.js';
import { AnvilResources, type AutoinstallTemplate, type BareMetalHost, type ProxmoxTemplate } from '@anvil/core/api';
import { InformerBootConfigSource, InformerHostSource, KubeHostEventReader, KubeTemplateRevisionReader, InformerTemplateSource, KubeAuthorizer, KubeHostWriter, serveDashboard } from '@anvil/dashboard';
import { BOOT_CONFIG_LABEL } from '@anvil/core/bootconfig';
import { CoreResources, type KubeObject } from '@anvil/core/kube';

async function main(): Promise<void> {
  const config = configOrExit(loadConfig, helpText);
  const log = createLogger('operator', config.logLevel);
  const client = new RestKubeClient(loadKubeConfigOrExplain(config.kubeconfig), { userAgent: 'anvil-operator' });
  // With an external database the operator serves the history API; migrations run here too (safe from every replica).
  const history = config.databaseURL ? await openHistoryStore({ databaseUrl: config.databaseURL, dataDir: '', log, applicationName: 'anvil-operator' }) : undefined;
  const manager = new Manager({
    client,
    log,
    identity: config.identity,
    namespaces: config.namespaces,
    healthPort: config.metricsPort,
    healthHost: config.metricsHost,
    resyncPeriodMs: config.resyncPeriodSeconds * 1000,
    ...(config.https ? { https: config.https } : {}),
    ...(history ? { extraRoutes: historyRouter(history, { log: log.child({ component: 'history-api' }) }) } : {}),
    ...(config.leaderElect
      ? { leaderElection: { namespace: config.leaderElectionNamespace, name: config.leaderElectionId, identity: config.identity } }
      : {}),
    onLeadershipLost: (reason) => {
      log.fatal({ reason }, 'lost leadership; exiting so a fresh start can campaign again');
      process.exit(1);
    },
  });
  const controllers = registerControllers(manager, {
    maxConcurrentReconciles: config.maxConcurrentReconciles,
    log,
    bootServerURL: config.bootServerURL,
    webhookRetries: config.webhookRetries,
    retryBaseMs: config.retryBaseSeconds * 1000,
    power: { maxConcurrentOps: config.maxConcurrentPowerOps, pollIntervalMs: config.powerPollSeconds * 1000, requestTimeoutMs: config.bmcTimeoutSeconds * 1000 },
    // Template builds and rollout decisions go into the install history when the operator has a database.
    proxmox: history ? { history } : {},
    ...(history ? { rolloutHistory: history } : {}),
  });
  registerHostMetrics({ hosts: manager.informer<BareMetalHost>(AnvilResources.bareMetalHost), registry: manager.metrics.registry, isLeader: () => manager.isLeader });
  // Every replica serves the dashboard from its warm cache, on its own port (never the boot-server's).
  const dashboard = config.dashboardPort
    ? await serveDashboard({
        port: config.dashboardPort,
        host: config.metricsHost,
        hosts: new InformerHostSource(manager.informer<BareMetalHost>(AnvilResources.bareMetalHost)),
        templates: new InformerTemplateSource(manager.informer<AutoinstallTemplate>(AnvilResources.autoinstallTemplate), manager.informer<ProxmoxTemplate>(AnvilResources.proxmoxTemplate)),
        authorizer: new KubeAuthorizer(client),
        events: new KubeHostEventReader(client),
        revisions: new KubeTemplateRevisionReader(client),
        // the host controller's own cache of the boot config Secrets
        bootConfigs: new InformerBootConfigSource(manager.informer<KubeObject>(CoreResources.secret, { labelSelector: `${BOOT_CONFIG_LABEL}=true` })),
        writer: new KubeHostWriter(client, (host, action, note) =>
          manager.recorder.event({ apiVersion: 'anvil.dev/v1alpha1', kind: 'BareMetalHost', metadata: { namespace: host.namespace, name: host.name, ...(host.uid ? { uid: host.uid } : {}) } }, 'Normal', 'DashboardAction', action, note),
        ),
        ...(history ? { history } : {}),
        log: log.child({ component: 'dashboard' }),
      })
    : undefined;
  if (config.certificates) {
    const podName = process.env.POD_NAME;
    manager.addRunnable(
      new CertificateManager({
        client,
        recorder: manager.recorder,
        log: log.child({ component: 'certificates' }),
        settings: config.certificates,
        registry: manager.metrics.registry,
        // Events are about this replica's Pod (POD_NAME and POD_NAMESPACE come from the downward API).
        regarding: { apiVersion: 'v1', kind: 'Pod', metadata: { name: podName ?? config.identity, namespace: process.env.POD_NAMESPACE ?? config.certificates.namespace } },
      }),
    );
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    manager.stop().then(
      async () => {
        await dashboard?.close();
        await history?.close();
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  log.debug({ namespaces: config.namespaces.length ? config.namespaces : 'all', controllers, leaderElect: config.leaderElect, metricsPort: config.metricsPort }, 'starting');
  await manager.start();
  if (stopping) return; // start() also returns when a shutdown ended the wait for leadership
  // Once leading with every cache synced: one line with where to look.
  const base = `http://${urlHostPort(config.metricsHost, manager.healthAddress?.port ?? config.metricsPort)}`;
  const https = config.https ? (manager.httpsAddress ? `https://${urlHostPort(config.https.host, manager.httpsAddress.port)}` : 'waiting for its certificate') : undefined;
  log.info(
    {
      metrics: `${base}/metrics`,
      health: `${base}/healthz`,
      ...(https ? { https } : {}),
      ...(history ? { historyAPI: `${base}/api/v1` } : {}),
      ...(dashboard ? { dashboard: `http://${urlHostPort(config.metricsHost, dashboard.port)}/` } : {}),
      namespaces: config.namespaces.length ? config.namespaces : 'all',
      controllers,
    },
    'operator ready',
  );
}

main().catch((err: unknown) => exitAfterFailedStart('operator', err, '--metrics-port, --https-port, --dashboard-port'));
