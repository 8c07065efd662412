// TemplatePorts on the API server: the API token and CA bundle from Secrets (one PVE client per object, rebuilt when
// a Secret or the connection changes), checksum files over HTTP, build records in the install history (when the
// operator has a database), events and the Proxmox task metrics.
import { Counter, Histogram, type Registry } from 'prom-client';
import { fetch } from 'undici';
import type { ProxmoxTemplate } from '@anvil/core/api';
import type { HistoryStore } from '@anvil/core/db';
import { CoreResources, isNotFound, type KubeClient, type KubeObject } from '@anvil/core/kube';
import type { Logger } from '@anvil/core/logging';
import type { FetchText } from '../../proxmox/catalog.js';
import { ProxmoxClient, type ProxmoxClientOptions } from '../../proxmox/client.js';
import { ProxmoxError } from '../../proxmox/errors.js';
import type { ProxmoxApi } from '../../proxmox/ports.js';
import type { EventRecorder } from '../../runtime/events.js';
import { TemplateConfigError, type BuildHistory, type TemplatePorts } from './ports.js';

export interface KubeTemplatePortsDeps {
  client: KubeClient;
  recorder: EventRecorder;
  log: Logger;
  registry?: Registry;
  /** The install history; without it builds are only in status and events. */
  history?: HistoryStore;
  /** Reads checksum files; default: HTTP GET with a timeout. */
  fetchText?: FetchText;
  /** Extra client options (tests: a short request timeout). */
  clientOptions?: Pick<ProxmoxClientOptions, 'requestTimeoutMs' | 'dispatcher'>;
}

type SecretObject = KubeObject & { data?: Record<string, string> };

const MAX_CHECKSUM_FILE_BYTES = 4 * 1024 * 1024;

/** GET a small text file (a checksum file): 30 s at most, 4 MiB at most, an error for anything but 2xx. */
export const httpFetchText: FetchText = async (url) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000), headers: { 'User-Agent': 'anvil-operator' } });
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_CHECKSUM_FILE_BYTES) throw new Error(`the file is ${length} bytes; a checksum file is smaller than ${MAX_CHECKSUM_FILE_BYTES}`);
  return res.text();
};

export class KubeTemplatePorts implements TemplatePorts {
  private readonly clients = new Map<string, { fingerprint: string; client: ProxmoxClient }>();
  readonly fetchText: FetchText;
  readonly history: BuildHistory;
  private readonly taskDuration: Histogram<'type' | 'result'> | undefined;
  private readonly builds: Counter<'result'> | undefined;

  constructor(private readonly deps: KubeTemplatePortsDeps) {
    this.fetchText = deps.fetchText ?? httpFetchText;
    this.history = historyOf(deps.history, deps.log);
    if (deps.registry) {
      this.taskDuration = new Histogram({
        name: 'anvil_proxmox_task_duration_seconds',
        help: 'Duration of the Proxmox VE tasks anvil waited for (download, qmcreate, resize, qmtemplate, qmdestroy, imgdel)',
        labelNames: ['type', 'result'],
        buckets: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
        registers: [deps.registry],
      });
      this.builds = new Counter({
        name: 'anvil_proxmox_template_builds_total',
        help: 'Finished ProxmoxTemplate builds by result',
        labelNames: ['result'],
        registers: [deps.registry],
      });
    }
  }

  async connect(t: ProxmoxTemplate): Promise<ProxmoxApi> {
    const c = t.spec.connection;
    const key = `${t.metadata.namespace}/${t.metadata.name}`;
    const token = await this.secretValue(t, c.tokenSecretRef, 'token', 'spec.connection.tokenSecretRef');
    const ca = c.caSecretRef ? await this.secretValue(t, c.caSecretRef, 'ca.crt', 'spec.connection.caSecretRef') : undefined;
    const fingerprint = JSON.stringify([t.metadata.uid, c.url, c.node, token.version, ca?.version, c.insecureSkipTLSVerify ?? false]);
    const cached = this.clients.get(key);
    if (cached?.fingerprint === fingerprint) return cached.client;
    if (cached) await cached.client.close();
    this.clients.delete(key);
    let client: ProxmoxClient;
    try {
      client = new ProxmoxClient({
        url: c.url,
        node: c.node,
        token: token.value,
        ...(ca ? { ca: ca.value } : {}),
        insecureSkipTLSVerify: c.insecureSkipTLSVerify ?? false,
        logger: this.deps.log,
        ...this.deps.clientOptions,
      });
    } catch (err) {
      if (err instanceof ProxmoxError) throw new TemplateConfigError('InvalidToken', `Secret ${t.metadata.namespace}/${c.tokenSecretRef.name}: ${err.pveMessage}`);
      throw err;
    }
    this.clients.set(key, { fingerprint, client });
    return client;
  }

  async forget(t: ProxmoxTemplate): Promise<void> {
    const key = `${t.metadata.namespace}/${t.metadata.name}`;
    const cached = this.clients.get(key);
    this.clients.delete(key);
    await cached?.client.close();
  }

  async cloudInitPassword(t: ProxmoxTemplate): Promise<string | undefined> {
    const ref = t.spec.cloudInit?.passwordSecretRef;
    return ref ? (await this.secretValue(t, ref, 'password', 'spec.cloudInit.passwordSecretRef')).value : undefined;
  }

  event(t: ProxmoxTemplate, type: 'Normal' | 'Warning', reason: string, note: string): void {
    this.deps.recorder.event(t, type, reason, 'Build', note);
    if (reason === 'BuildSucceeded') this.builds?.inc({ result: 'SUCCESS' });
    if (reason === 'BuildFailed') this.builds?.inc({ result: 'FAIL' });
  }

  taskFinished(taskType: string, ok: boolean, seconds: number): void {
    this.taskDuration?.observe({ type: taskType, result: ok ? 'OK' : 'FAIL' }, seconds);
  }

  private async secretValue(t: ProxmoxTemplate, ref: { name: string; key?: string }, defaultKey: string, field: string): Promise<{ value: string; version: string }> {
    const namespace = t.metadata.namespace;
    const key = ref.key ?? defaultKey;
    let secret: SecretObject | undefined;
    try {
      secret = await this.deps.client.get<SecretObject>(CoreResources.secret, { namespace, name: ref.name });
    } catch (err) {
      if (isNotFound(err)) secret = undefined;
      else if ((err as { code?: number }).code === 403) throw new TemplateConfigError('SecretForbidden', `the operator may not read Secret ${namespace}/${ref.name} (RBAC)`);
      else throw err;
    }
    if (!secret) throw new TemplateConfigError('SecretNotFound', `Secret ${namespace}/${ref.name} (${field}) does not exist`);
    const encoded = secret.data?.[key];
    if (encoded === undefined) throw new TemplateConfigError('SecretKeyNotFound', `Secret ${namespace}/${ref.name} (${field}) has no key "${key}"`);
    return { value: Buffer.from(encoded, 'base64').toString('utf8').trim(), version: secret.metadata.resourceVersion ?? '' };
  }
}

/** Build records in the history store; without a store, nothing (the versions in status remain the record). */
function historyOf(store: HistoryStore | undefined, log: Logger): BuildHistory {
  if (!store) return { started: async () => undefined, finished: async () => undefined };
  return {
    started: (b) =>
      store.recordTemplateBuildStarted({
        id: b.id,
        template: { namespace: b.namespace, name: b.name },
        version: String(b.version),
        ...(b.vmid !== undefined ? { vmid: b.vmid } : {}),
        node: b.node,
        startedAt: b.startedAt,
      }),
    finished: async (o) => {
      const outcome = await store.recordTemplateBuildFinished(o);
      if (outcome === 'not-found') log.warn({ build: o.id }, 'template build finished without a start record');
    },
  };
}
