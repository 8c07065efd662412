// Keeps anvil's cert-manager Certificates in place and says what is wrong when they cannot be.
// One concern, as in cert-manager's own controllers: this loop owns the Certificate objects; the processes only
// read the Secrets cert-manager writes (shared/src/tls reloads them). Without cert-manager anvil keeps serving HTTP.
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { ApiError, type KubeClient, type KubeObject } from '@anvil/core/kube';
import type { EventRecorder } from '../../runtime/events.js';
import { CertificateType, desiredCertificate, specDrift, type Certificate, type CertificateSettings } from './desired.js';

export type CertificateState = 'NoCertManager' | 'Issuing' | 'Ready' | 'NotReady' | 'Error';

export interface CertificateReport {
  name: string;
  state: CertificateState;
  message: string;
}

export interface CertificateManagerOptions {
  client: KubeClient;
  recorder: EventRecorder;
  log: Logger;
  settings: CertificateSettings;
  /** The object events are about: the operator's Pod when known. */
  regarding: KubeObject;
  registry?: Registry;
  intervalMs?: number;
}

export class CertificateManager {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private readonly lastState = new Map<string, string>();
  private readonly ready: Gauge | undefined;

  constructor(private readonly options: CertificateManagerOptions) {
    this.ready = options.registry
      ? new Gauge({ name: 'anvil_certificate_ready', help: '1 when the cert-manager Certificate anvil requested is Ready, 0 otherwise (also 0 without cert-manager)', labelNames: ['name'], registers: [options.registry] })
      : undefined;
  }

  start(): void {
    const tick = () => {
      this.running = this.sync().catch((err: unknown) => this.options.log.error({ err: String(err) }, 'certificate sync failed'));
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs ?? 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass: create or correct every Certificate, then report each one's readiness. */
  async sync(): Promise<CertificateReport[]> {
    const { client, settings } = this.options;
    const reports: CertificateReport[] = [];
    for (const request of settings.certificates) {
      const desired = desiredCertificate(settings, request);
      let report: CertificateReport;
      try {
        const actual = await client.get<Certificate>(CertificateType, { namespace: settings.namespace, name: request.name });
        if (!actual) {
          await client.create(CertificateType, desired);
          report = { name: request.name, state: 'Issuing', message: `requested from ${settings.issuer.kind} ${settings.issuer.name}` };
        } else {
          const drift = specDrift(desired.spec!, actual.spec);
          if (drift) await client.patch(CertificateType, { namespace: settings.namespace, name: request.name }, 'merge', { spec: drift });
          report = drift ? { name: request.name, state: 'Issuing', message: `corrected ${Object.keys(drift).join(', ')}` } : readiness(request.name, actual);
        }
      } catch (err) {
        report = await this.explain(request.name, err);
      }
      this.publish(report);
      reports.push(report);
    }
    return reports;
  }

  private async explain(name: string, err: unknown): Promise<CertificateReport> {
    if (err instanceof ApiError && err.code === 404 && !(await this.certManagerInstalled())) {
      return { name, state: 'NoCertManager', message: 'cert-manager is not installed (no certificates.cert-manager.io in the API); serving HTTP only until it is' };
    }
    if (err instanceof ApiError && err.code === 403) return { name, state: 'Error', message: `not allowed to manage Certificates: ${err.message}` };
    return { name, state: 'Error', message: err instanceof Error ? err.message : String(err) };
  }

  private async certManagerInstalled(): Promise<boolean> {
    try {
      await this.options.client.list(CertificateType, { namespace: this.options.settings.namespace, limit: 1 });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return false;
      throw err;
    }
  }

  private publish(report: CertificateReport): void {
    this.ready?.set({ name: report.name }, report.state === 'Ready' ? 1 : 0);
    const key = `${report.state}\0${report.message}`;
    if (this.lastState.get(report.name) === key) return;
    this.lastState.set(report.name, key);
    const warning = report.state === 'NoCertManager' || report.state === 'NotReady' || report.state === 'Error';
    this.options.log[warning ? 'warn' : 'info']({ certificate: report.name, state: report.state }, report.message);
    this.options.recorder.event(this.options.regarding, warning ? 'Warning' : 'Normal', `Certificate${report.state}`, 'EnsureCertificate', `${report.name}: ${report.message}`);
  }
}

function readiness(name: string, cert: Certificate): CertificateReport {
  const ready = cert.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return { name, state: 'Ready', message: `issued${cert.status?.notAfter ? `, valid until ${cert.status.notAfter}` : ''}` };
  if (!ready) return { name, state: 'Issuing', message: 'waiting for cert-manager to issue it' };
  return { name, state: 'NotReady', message: `${ready.reason ?? 'NotReady'}: ${ready.message ?? 'no message'}` };
}
