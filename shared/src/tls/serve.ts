// Starts the reloading HTTPS listener for a process and exports its certificate's health as metrics.
import type { RequestListener } from 'node:http';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { HttpsConfig } from './config.js';
import { ReloadingHttpsServer } from './reloading-https.js';

export interface ServeHttpsOptions {
  config: HttpsConfig;
  handler: RequestListener;
  registry: Registry;
  log: Logger;
  pollMs?: number;
}

export async function serveHttps(options: ServeHttpsOptions): Promise<ReloadingHttpsServer> {
  const expiry = new Gauge({
    name: 'anvil_tls_certificate_expiry_timestamp_seconds',
    help: 'When the certificate the HTTPS listener serves expires (Unix seconds)',
    registers: [options.registry],
  });
  const reloads = new Counter({ name: 'anvil_tls_certificate_loads_total', help: 'Certificates loaded by the HTTPS listener (first load and every rotation)', registers: [options.registry] });
  const errors = new Counter({ name: 'anvil_tls_certificate_errors_total', help: 'Certificate files found unusable; the previous certificate kept serving', registers: [options.registry] });
  const server = new ReloadingHttpsServer({
    ...options.config,
    handler: options.handler,
    log: options.log,
    ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    onLoad: (cert) => {
      expiry.set(cert.notAfter.getTime() / 1000);
      reloads.inc();
    },
    onError: () => errors.inc(),
  });
  await server.start();
  return server;
}
