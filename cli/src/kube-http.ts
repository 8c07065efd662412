// The KubeClient port (shared/src/kube) over node:https, for the CLI: it starts in a few milliseconds where the
// operator's client-node adapter takes hundreds. A connection that fails becomes one ClusterError that says where it
// tried to connect and how to fix it; answers of the API server become ApiErrors, as from the operator's client.
import type * as Http from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type * as Https from 'node:https';
import type { Agent } from 'node:https';
import { ApiError, resourcePath, type KubeClient, type KubeObject, type ListOptions, type ListResult, type ObjectKey, type PatchOptions, type PatchType, type ResourceType, type WatchEvent, type WatchEventType, type WatchHandle, type WatchOptions } from '@anvil/core/kube';
import { ClusterError } from './errors.js';
import type { ClusterAccess } from './kubeconfig.js';

// Not `import`ed (see builtins.ts), and loaded with the first request: commands that need no cluster skip TLS.
const http = (): typeof Http => process.getBuiltinModule('node:http');
const https = (): typeof Https => process.getBuiltinModule('node:https');

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface HttpKubeClientOptions {
  /** A request (not a watch) is abandoned after this long; 0: never. */
  timeoutMs: number;
  userAgent: string;
}

type Query = Record<string, string | number | boolean | undefined>;

/** A Kubernetes Status, as the server sends it with an error. */
interface ApiStatus {
  code?: number;
  reason?: string;
  message?: string;
  details?: unknown;
}

/** One line of a watch stream: an ERROR carries a Status, every other event an object. */
type WatchLine<T> = (WatchEvent<T> & { type: Exclude<WatchEventType, 'ERROR'> }) | { type: 'ERROR'; object: ApiStatus };

const CONNECTION_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS failure)',
  EPROTO: 'the TLS handshake failed (is it an HTTPS server?)',
};

const TLS_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME|ERR_SSL|ERR_TLS/;

export class HttpKubeClient implements KubeClient {
  private agent: Agent | undefined;

  constructor(
    private readonly access: ClusterAccess,
    private readonly options: HttpKubeClientOptions,
  ) {}

  /** Why the cluster could not be used, in one line, with the fix on a second. */
  private connectionError(err: NodeJS.ErrnoException): ClusterError {
    if (err instanceof ClusterError) return err;
    const code = err.code ?? '';
    const at = `the cluster at ${this.access.server} (${this.access.source})`;
    if (TLS_ERRORS.test(code)) {
      return new ClusterError(`cannot trust ${at}: ${err.message.split(';')[0]}`, 'Check the cluster\'s certificate-authority(-data) and tls-server-name in the kubeconfig.');
    }
    const why = CONNECTION_ERRORS[code] ?? err.message;
    return new ClusterError(`cannot reach ${at}: ${why}`, 'Is the API server running and reachable from here? Check --context and the kubeconfig (--kubeconfig, KUBECONFIG).');
  }

  private unauthorized(): ClusterError {
    return new ClusterError(`the cluster at ${this.access.server} refused the credentials of ${this.access.source} (401 Unauthorized)`, 'Log in again or refresh the credentials in the kubeconfig.');
  }

  private headers(accept = 'application/json'): Record<string, string | string[]> {
    const headers: Record<string, string | string[]> = { Accept: accept, 'User-Agent': this.options.userAgent };
    const token = this.access.token?.();
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (this.access.basicAuth) headers.Authorization = `Basic ${Buffer.from(`${this.access.basicAuth.username}:${this.access.basicAuth.password}`).toString('base64')}`;
    if (this.access.impersonate?.user) headers['Impersonate-User'] = this.access.impersonate.user;
    if (this.access.impersonate?.groups) headers['Impersonate-Group'] = this.access.impersonate.groups;
    return headers;
  }

  private open(method: string, path: string, query: Query, headers: Record<string, string | string[]>): ClientRequest {
    const url = new URL(this.access.server + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    if (url.protocol === 'http:') return http().request(url, { method, headers });
    // Built after the headers: an exec plugin may have supplied the client certificate.
    this.agent ??= new (https().Agent)({
      keepAlive: true,
      ...(this.access.ca ? { ca: this.access.ca } : {}),
      ...(this.access.clientCert ? { cert: this.access.clientCert } : {}),
      ...(this.access.clientKey ? { key: this.access.clientKey } : {}),
      rejectUnauthorized: !this.access.insecureSkipTlsVerify,
      ...(this.access.tlsServerName ? { servername: this.access.tlsServerName } : {}),
    });
    return https().request(url, { method, headers, agent: this.agent });
  }

  private async call<T>(method: string, path: string, query: Query = {}, body?: unknown, contentType = 'application/json', accept?: string): Promise<T> {
    const headers = this.headers(accept);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (payload !== undefined) headers['Content-Type'] = contentType;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = this.open(method, path, query, headers);
      const timer = this.options.timeoutMs > 0 ? setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'ANVIL_TIMEOUT' })), this.options.timeoutMs) : undefined;
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (err.code === 'ANVIL_TIMEOUT') {
          reject(new ClusterError(`no answer from the cluster at ${this.access.server} (${this.access.source}) within ${this.options.timeoutMs / 1000}s`, 'Is the API server overloaded or unreachable? --request-timeout waits longer.'));
        } else {
          reject(this.connectionError(err));
        }
      });
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (err) => req.destroy(err));
      });
      req.end(payload);
    });
    if (status === 401) throw this.unauthorized();
    if (status < 200 || status > 299) throw apiError(status, text, `${method} ${path}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async get<T extends KubeObject>(type: ResourceType, key: ObjectKey): Promise<T | undefined> {
    try {
      return await this.call<T>('GET', resourcePath(type, key.namespace, key.name));
    } catch (err) {
      // Only a missing object: a missing resource type (CRDs not installed) is an error worth reporting.
      if (err instanceof ApiError && err.code === 404 && (err.details as { name?: string } | undefined)?.name) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject>(type: ResourceType, options: ListOptions = {}): Promise<ListResult<T>> {
    const list = await this.call<{ items: T[] | null; metadata: { resourceVersion: string; continue?: string } }>('GET', resourcePath(type, options.namespace), {
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      limit: options.limit,
      continue: options.continue,
      resourceVersion: options.resourceVersion,
    });
    const apiVersion = type.group ? `${type.group}/${type.version}` : type.version;
    const items = list.items ?? [];
    for (const item of items) {
      item.apiVersion ??= apiVersion;
      item.kind ??= type.kind;
    }
    return { items, resourceVersion: list.metadata.resourceVersion, ...(list.metadata.continue ? { continue: list.metadata.continue } : {}) };
  }

  watch<T extends KubeObject>(type: ResourceType, options: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchHandle {
    let req: ClientRequest | undefined;
    let stopped = false;
    const timeoutSeconds = options.timeoutSeconds ?? 300;
    const done = new Promise<Error | undefined>((resolve) => {
      const finish = (err?: Error): void => resolve(stopped ? undefined : err);
      try {
        req = this.open(
          'GET',
          resourcePath(type, options.namespace),
          { watch: 1, resourceVersion: options.resourceVersion, allowWatchBookmarks: options.allowWatchBookmarks ?? true, timeoutSeconds, labelSelector: options.labelSelector, fieldSelector: options.fieldSelector },
          this.headers(),
        );
      } catch (err) {
        return finish(err instanceof Error ? err : new Error(String(err)));
      }
      // A server that says nothing for well past its own timeout is gone.
      req.setTimeout((timeoutSeconds + 30) * 1000, () => req!.destroy(Object.assign(new Error('the watch went silent'), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => finish(this.connectionError(err)));
      req.on('response', (res: IncomingMessage) => {
        if (res.statusCode === 401) return finish(this.unauthorized());
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => finish(apiError(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), `WATCH ${type.plural}`)));
          return;
        }
        const lines = process.getBuiltinModule('node:readline').createInterface({ input: res, crlfDelay: Infinity });
        let failed: Error | undefined;
        lines.on('line', (line) => {
          if (failed || stopped || !line.trim()) return;
          try {
            const event = JSON.parse(line) as WatchLine<T>;
            if (event.type === 'ERROR') {
              const s = event.object;
              failed = new ApiError(s.code ?? 500, s.reason ?? 'Unknown', s.message ?? 'watch error', s);
              req!.destroy();
              return finish(failed);
            }
            onEvent(event);
          } catch (err) {
            failed = err instanceof Error ? err : new Error(String(err));
            req!.destroy();
            finish(failed);
          }
        });
        lines.on('close', () => finish(failed));
        res.on('error', (err: NodeJS.ErrnoException) => finish(stopped ? undefined : this.connectionError(err)));
      });
      req.end();
    });
    return {
      done,
      stop: () => {
        stopped = true;
        req?.destroy();
      },
    };
  }

  create<T extends KubeObject>(type: ResourceType, object: T, options: { dryRun?: boolean } = {}): Promise<T> {
    return this.call<T>('POST', resourcePath(type, object.metadata.namespace), { dryRun: options.dryRun ? 'All' : undefined }, object);
  }

  replace<T extends KubeObject>(type: ResourceType, object: T, options: { subresource?: 'status' } = {}): Promise<T> {
    if (!object.metadata.name) throw new Error('replace needs metadata.name');
    return this.call<T>('PUT', resourcePath(type, object.metadata.namespace, object.metadata.name, options.subresource), {}, object);
  }

  patch<T extends KubeObject>(type: ResourceType, key: ObjectKey, patchType: PatchType, body: unknown, options: PatchOptions = {}): Promise<T> {
    return this.call<T>(
      'PATCH',
      resourcePath(type, key.namespace, key.name, options.subresource),
      { fieldManager: options.fieldManager ?? (patchType === 'apply' ? 'anvil-cli' : undefined), force: options.force, dryRun: options.dryRun ? 'All' : undefined },
      body,
      PATCH_CONTENT_TYPES[patchType],
    );
  }

  async delete(type: ResourceType, key: ObjectKey, options: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; uid?: string } = {}): Promise<void> {
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
    if (options.uid) body.preconditions = { uid: options.uid };
    await this.call('DELETE', resourcePath(type, key.namespace, key.name), {}, body);
  }

  close(): void {
    this.agent?.destroy();
  }
}

function apiError(code: number, text: string, what: string): ApiError {
  try {
    const status = JSON.parse(text) as ApiStatus;
    return new ApiError(code, status.reason ?? 'Unknown', status.message ?? `${what}: HTTP ${code}`, status.details);
  } catch {
    return new ApiError(code, 'Unknown', `${what}: HTTP ${code}${text ? `: ${text.trim().slice(0, 200)}` : ''}`);
  }
}
