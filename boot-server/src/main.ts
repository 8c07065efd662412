// The boot-server process: configuration, wiring and signal handling only.
import type { Server } from 'node:http';
import { Router } from 'express';
import { join } from 'node:path';
import { Registry, collectDefaultMetrics, Counter, Gauge } from 'prom-client';
import { BOOT_CONFIG_LABEL } from '@anvil/core/bootconfig';
import { InformerSet, Informer, CoreResources, type KubeObject } from '@anvil/core/kube';
import { RestKubeClient } from '@anvil/core/kube/rest-client';
import { exitAfterFailedStart, loadKubeConfigOrExplain, urlHostPort } from '@anvil/core/startup';
import { createLogger } from '@anvil/core/logging';
import { BootConfigIndex } from './bootconfigs/index.js';
import { helpText, loadConfig } from './config.js';
import { configOrExit } from '@anvil/core/config';
import { createBootApp } from './http/app.js';
import { AssetCache } from './assets/cache.js';
import { startAssetPrefetch } from './assets/wiring.js';
import { Shipper, type Sink } from './spool/shipper.js';
import { measuredSinks } from './spool/measured-sink.js';
import { Spool } from './spool/spool.js';
import { Quarantine } from './spool/quarantine.js';
import type { SpoolRecord } from './spool/records.js';
import { HostStatusSink } from './status/host-status-sink.js';
import { discoveredHostSink } from './discovery/wiring.js';
import { startTftp } from './tftp-wiring.js';
import { BootSenders } from './syslog/senders.js';
import { startSyslog } from './syslog/wiring.js';
import { startProxyDhcp } from './dhcp/wiring.js';
import { openHistorySink, restartWithEmbeddedDatabaseFlags } from './history-wiring.js';
import { startRetention } from './history/retention.js';
import { historyRouter } from '@anvil/core/history-api';
import { serveHttps } from '@anvil/core/tls';

async function main(): Promise<void> {
  const config = configOrExit(loadConfig, helpText);
  restartWithEmbeddedDatabaseFlags(config);
  const log = createLogger('boot-server', config.logLevel);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const client = new RestKubeClient(loadKubeConfigOrExplain(config.kubeconfig), { userAgent: 'anvil-boot-server' });

  const namespaces = config.namespaces.length ? config.namespaces : [undefined];
  const secrets = new InformerSet<KubeObject>(
    CoreResources.secret,
    namespaces.map((ns) => new Informer<KubeObject>(client, CoreResources.secret, log.child({ informer: 'bootconfigs' }), { labelSelector: `${BOOT_CONFIG_LABEL}=true`, ...(ns ? { namespace: ns } : {}) })),
  );
  const index = new BootConfigIndex(secrets);
  const spool = new Spool<SpoolRecord>({ dir: config.spoolDir });
  const history = await openHistorySink(config, log);
  const sinks: Sink<SpoolRecord>[] = [new HostStatusSink(client, log.child({ sink: 'host-status' })), history.sink];
  if (config.discovery === 'create') sinks.push(discoveredHostSink(config, client, log, registry));
  // In the spool's directory (same volume), which reads only its seg-*.jsonl files.
  const quarantine = new Quarantine<SpoolRecord>(join(config.spoolDir, 'quarantine.jsonl'));
  const quarantined = new Counter({ name: 'anvil_quarantined_records_total', help: 'Spooled records a sink refused for good, kept in the quarantine (GET /api/v1/quarantine)', labelNames: ['sink'], registers: [registry] });
  const shipper = new Shipper(spool, measuredSinks(sinks, registry), log.child({ component: 'shipper' }), {
    quarantine,
    onQuarantine: (sink) => quarantined.inc({ sink }),
  });
  new Gauge({ name: 'anvil_spool_backlog_bytes', help: 'Bytes of accepted records not yet shipped to every sink', registers: [registry], collect() { this.set(shipper.backlogBytes()); } });
  new Gauge({
    name: 'anvil_spool_sink_backlog_bytes',
    help: 'Bytes of accepted records a sink has still to take (each sink ships at its own pace)',
    labelNames: ['sink'],
    registers: [registry],
    collect() {
      for (const [sink, bytes] of Object.entries(shipper.backlog())) this.set({ sink }, bytes);
    },
  });
  const assets = new AssetCache({ dir: config.assetDir, log: log.child({ component: 'assets' }) });
  // Downloads start as configs are published (at start too), so a machine rarely waits for upstream.
  const prefetcher = startAssetPrefetch({ cache: assets, index, source: secrets, registry, log: log.child({ component: 'assets' }) });
  // syslog carries no MAC: its sender is known by the address of its boot requests
  const senders = new BootSenders();
  const app = createBootApp({
    index,
    assets,
    spool: senders.watch(spool),
    log,
    registry,
    publicURL: config.publicURL,
    unknownMachine: config.unknownMachine,
    ready: () => secrets.hasSynced,
    eventGraceMs: config.eventGraceSeconds * 1000,
    rateLimit: { perSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst },
    extraRoutes: Router()
      .get('/api/v1/quarantine', (req, res) => {
        const limit = Math.min(Math.max(Number(req.query.limit ?? 100) || 100, 1), 1000);
        res.json({ total: quarantine.count, items: quarantine.list(limit) });
      })
      .use(historyRouter(history.store, { log: log.child({ component: 'history-api' }) })),
  });

  const retention = startRetention(history.store, { days: config.retentionDays }, log.child({ component: 'retention' }));
  secrets.start();
  shipper.start();
  // Nothing is answered before every boot config is known: a valid token must never get a 404 after a restart (an
  // installer never retries a failed post), while a refused connection makes iPXE and curl try again.
  await secrets.waitForSync();
  // HTTPS first: once /healthz answers over HTTP, HTTPS is bound too (or waiting for a certificate that does not exist yet).
  const https = config.https ? await serveHttps({ config: config.https, handler: app, registry, log: log.child({ component: 'https' }) }) : undefined;
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.httpPort, config.httpHost, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const tftp = config.tftpPort ? await startTftp(config, registry, log) : undefined;
  const syslog = config.syslogPort
    ? await startSyslog({ host: config.syslogHost, port: config.syslogPort, index, senders, spool, eventGraceMs: config.eventGraceSeconds * 1000, registry, log: log.child({ component: 'syslog' }) })
    : undefined;
  const proxyDhcp = config.proxyDhcp ? await startProxyDhcp(config.proxyDhcp, config.publicURL, index, registry, log, join(config.spoolDir, 'dhcp-leases.json')) : undefined;
  const addr = server.address();
  const httpPort = typeof addr === 'object' && addr ? addr.port : config.httpPort;
  const httpsURL = !https || !config.https ? 'off' : https.port === undefined ? 'waiting for its certificate' : `https://${urlHostPort(config.https.host, https.port)}`;
  log.info({ http: `http://${urlHostPort(config.httpHost, httpPort)}`, https: httpsURL, tftp: tftp ? `tftp://${urlHostPort(config.tftpHost, tftp.port)}` : 'off', publicURL: config.publicURL, proxyDhcp: proxyDhcp?.describe ?? 'off', syslog: syslog ? `udp://${urlHostPort(config.syslogHost, syslog.port)}` : 'off', history: history.describe }, 'boot-server ready');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(1), 20_000).unref();
    await new Promise<void>((r) => server.close(() => r()));
    await https?.close();
    await tftp?.stop();
    await syslog?.stop();
    await proxyDhcp?.stop();
    retention.stop();
    prefetcher.stop();
    await assets.close();
    await spool.close();
    await shipper.drain().catch(() => false); // anything not shipped stays in the spool for the next start
    await shipper.stop();
    await secrets.stop();
    await history.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => exitAfterFailedStart('boot-server', err, '--http-port, --https-port, --tftp-port, --proxy-dhcp-port, --proxy-dhcp-pxe-port, --syslog-port'));
