// The KubeClient adapter: REST calls on undici with the authentication and TLS settings of a client-node KubeConfig.
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { fetch, getGlobalDispatcher, type Dispatcher } from 'undici';
import { poolConnections } from './connection-pool.js';
import { ApiError } from './errors.js';
import { resourcePath } from './resources.js';
import type {
  KubeClient,
  KubeObject,
  ListOptions,
  ListResult,
  ObjectKey,
  PatchOptions,
  PatchType,
  ResourceType,
  WatchEvent,
  WatchEventType,
  WatchHandle,
  WatchOptions,
} from './types.js';

// Metadata-only list and watch (what client-go's metadata informers use): the server sends PartialObjectMetadata.
const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface RestClientOptions {
  /**
   * Requests per second is not limited here; a hung request (other than a watch) is cut when its answer does not start,
   * or its body stops, for this long.
   */
  requestTimeoutMs?: number;
  /**
   * How long a watch may go without a byte from the server before its connection is taken for dead (default 11 min;
   * 0: never, as in client-go, leaving dead peers to TCP keep-alive). Quiet watches are normal, so every watch asks
   * the server to end it before this (its timeoutSeconds is capped below it): a watch then ends cleanly, never by
   * this timeout, unless the connection really is gone.
   */
  watchBodyTimeoutMs?: number;
  userAgent?: string;
  /** Counts every request by verb, for tests and benchmarks that check API usage. */
  onRequest?: (verb: string, type: ResourceType) => void;
}

const DEFAULT_WATCH_BODY_TIMEOUT_MS = 11 * 60_000;

/** A Kubernetes Status, as the server sends it with an error. */
interface ApiStatus {
  code?: number;
  reason?: string;
  message?: string;
  details?: unknown;
}

/** One line of a watch stream: an ERROR carries a Status, every other event an object. */
type WatchLine<T> = WatchEvent<T> & { type: Exclude<WatchEventType, 'ERROR'> } | { type: 'ERROR'; object: ApiStatus };

/**
 * The longest server-side timeout (seconds) a watch may ask for with this body timeout: a margin below it (a quarter,
 * at most 30 s, at least 1 s) for the server's own lateness in ending the watch. Undefined when there is no body timeout.
 */
export function maxWatchTimeoutSeconds(watchBodyTimeoutMs: number): number | undefined {
  if (watchBodyTimeoutMs <= 0) return undefined;
  const seconds = Math.floor(watchBodyTimeoutMs / 1000);
  return seconds - Math.max(1, Math.min(30, Math.floor(seconds / 4)));
}

export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no current cluster');
  return kc;
}

export class RestKubeClient implements KubeClient {
  private readonly server: string;
  private readonly timeoutMs: number;
  private readonly watchBodyTimeoutMs: number;
  private readonly maxWatchSeconds: number | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: RestClientOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.watchBodyTimeoutMs = options.watchBodyTimeoutMs ?? DEFAULT_WATCH_BODY_TIMEOUT_MS;
    if (this.watchBodyTimeoutMs !== 0 && !(this.watchBodyTimeoutMs >= 2000)) throw new Error('watchBodyTimeoutMs must be 0 (none) or at least 2000');
    this.maxWatchSeconds = maxWatchTimeoutSeconds(this.watchBodyTimeoutMs);
    poolConnections(kc);
  }

  private async prepare(method: HttpMethod, url: URL, accept = 'application/json'): Promise<{ headers: Record<string, string>; dispatcher?: Dispatcher }> {
    const ctx = new RequestContext(url.toString(), method);
    await this.kc.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...ctx.getHeaders(), Accept: accept };
    if (this.options.userAgent) headers['User-Agent'] = this.options.userAgent;
    const dispatcher = ctx.getDispatcher() as Dispatcher | undefined;
    return dispatcher ? { headers, dispatcher } : { headers };
  }

  private url(path: string, query: Record<string, string | number | boolean | undefined> = {}): URL {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private async request<T>(
    verb: string,
    type: ResourceType,
    method: HttpMethod,
    url: URL,
    body?: unknown,
    contentType = 'application/json',
    accept?: string,
  ): Promise<T> {
    this.options.onRequest?.(verb, type);
    const { headers, dispatcher } = await this.prepare(method, url, accept);
    let payload: string | undefined;
    if (body !== undefined) {
      headers['Content-Type'] = contentType;
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    // undici's dispatcher API, not its WHATWG fetch: fetch with an AbortSignal.timeout cost four times the CPU per
    // request (WHATWG streams, a timer and a signal each), which the status writes of an install burst paid for.
    const res = await (dispatcher ?? getGlobalDispatcher()).request({
      origin: url.origin,
      path: url.pathname + url.search,
      method,
      headers,
      body: payload,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode > 299) throw toApiError(res.statusCode, text, `${method} ${url.pathname}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async get<T extends KubeObject>(type: ResourceType, key: ObjectKey): Promise<T | undefined> {
    try {
      return await this.request<T>('get', type, HttpMethod.GET, this.url(resourcePath(type, key.namespace, key.name)));
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject>(type: ResourceType, options: ListOptions = {}): Promise<ListResult<T>> {
    const url = this.url(resourcePath(type, options.namespace), {
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      limit: options.limit,
      continue: options.continue,
      resourceVersion: options.resourceVersion,
    });
    const list = await this.request<{ items: T[]; metadata: { resourceVersion: string; continue?: string } }>(
      'list',
      type,
      HttpMethod.GET,
      url,
      undefined,
      undefined,
      options.metadataOnly ? METADATA_LIST_ACCEPT : undefined,
    );
    const apiVersion = type.group ? `${type.group}/${type.version}` : type.version;
    // An empty PartialObjectMetadataList comes with "items": null.
    list.items ??= [];
    // List items come without apiVersion/kind; fill them so cached objects are self-describing.
    for (const item of list.items) {
      item.apiVersion ??= apiVersion;
      item.kind ??= type.kind;
    }
    const result: ListResult<T> = { items: list.items, resourceVersion: list.metadata.resourceVersion };
    if (list.metadata.continue) result.continue = list.metadata.continue;
    return result;
  }

  watch<T extends KubeObject>(type: ResourceType, options: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchHandle {
    const controller = new AbortController();
    // Without timeoutSeconds the server picks 30-60 min, beyond the body timeout: always ask for one that fits.
    const timeoutSeconds = this.maxWatchSeconds === undefined ? options.timeoutSeconds : Math.min(options.timeoutSeconds ?? this.maxWatchSeconds, this.maxWatchSeconds);
    const url = this.url(resourcePath(type, options.namespace), {
      watch: 1,
      resourceVersion: options.resourceVersion,
      allowWatchBookmarks: options.allowWatchBookmarks ?? true,
      timeoutSeconds,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
    });
    this.options.onRequest?.('watch', type);
    const done = (async (): Promise<Error | undefined> => {
      try {
        const { headers, dispatcher } = await this.prepare(HttpMethod.GET, url, options.metadataOnly ? METADATA_ACCEPT : undefined);
        const init: Parameters<typeof fetch>[1] = { method: 'GET', headers, signal: controller.signal, dispatcher: this.forWatches(dispatcher) };
        const res = await fetch(url, init);
        if (!res.ok || !res.body) throw toApiError(res.status, await res.text(), `WATCH ${url.pathname}`);
        const lines = createInterface({ input: Readable.fromWeb(res.body), crlfDelay: Infinity });
        for await (const line of lines) {
          if (!line.trim()) continue;
          const event = JSON.parse(line) as WatchLine<T>;
          if (event.type === 'ERROR') {
            const status = event.object;
            throw new ApiError(status.code ?? 500, status.reason ?? 'Unknown', status.message ?? 'watch error', status);
          }
          onEvent(event);
        }
        return undefined;
      } catch (err) {
        if (controller.signal.aborted) return undefined;
        return err instanceof Error ? err : new Error(String(err));
      }
    })();
    return { done, stop: () => controller.abort() };
  }

  /**
   * The dispatcher with this client's watch timeouts on each request. undici's default body timeout (300 s, the
   * agent's) would otherwise end every watch that stays quiet that long with "TypeError: terminated".
   */
  private forWatches(dispatcher: Dispatcher | undefined): Dispatcher {
    const bodyTimeout = this.watchBodyTimeoutMs;
    const headersTimeout = this.timeoutMs;
    return (dispatcher ?? getGlobalDispatcher()).compose((dispatch) => (opts, handler) => dispatch({ ...opts, bodyTimeout, headersTimeout }, handler));
  }

  async create<T extends KubeObject>(type: ResourceType, object: T, options: { dryRun?: boolean } = {}): Promise<T> {
    const url = this.url(resourcePath(type, object.metadata.namespace), { dryRun: options.dryRun ? 'All' : undefined });
    return this.request<T>('create', type, HttpMethod.POST, url, object);
  }

  async replace<T extends KubeObject>(type: ResourceType, object: T, options: { subresource?: 'status' } = {}): Promise<T> {
    const name = object.metadata.name;
    if (!name) throw new Error('replace needs metadata.name');
    const url = this.url(resourcePath(type, object.metadata.namespace, name, options.subresource));
    return this.request<T>('update', type, HttpMethod.PUT, url, object);
  }

  async patch<T extends KubeObject>(
    type: ResourceType,
    key: ObjectKey,
    patchType: PatchType,
    body: unknown,
    options: PatchOptions = {},
  ): Promise<T> {
    const url = this.url(resourcePath(type, key.namespace, key.name, options.subresource), {
      fieldManager: options.fieldManager ?? (patchType === 'apply' ? 'anvil' : undefined),
      force: options.force,
      dryRun: options.dryRun ? 'All' : undefined,
    });
    return this.request<T>('patch', type, HttpMethod.PATCH, url, body, PATCH_CONTENT_TYPES[patchType]);
  }

  async delete(
    type: ResourceType,
    key: ObjectKey,
    options: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; uid?: string } = {},
  ): Promise<void> {
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
    if (options.uid) body.preconditions = { uid: options.uid };
    await this.request('delete', type, HttpMethod.DELETE, this.url(resourcePath(type, key.namespace, key.name)), body);
  }
}

function toApiError(code: number, text: string, what: string): ApiError {
  try {
    const status = JSON.parse(text) as ApiStatus;
    return new ApiError(code, status.reason ?? 'Unknown', status.message ?? `${what}: HTTP ${code}`, status.details);
  } catch {
    return new ApiError(code, 'Unknown', `${what}: HTTP ${code}: ${text.slice(0, 200)}`);
  }
}
