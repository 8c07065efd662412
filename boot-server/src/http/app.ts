// The boot-server's HTTP side: iPXE scripts, NoCloud seeds, cached assets and the installer's progress webhook.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { macDashed, normalizeMac, tokenMatches, type BootConfig } from '../../../shared/src/bootconfig/boot-config.js';
import type { BootConfigIndex } from '../bootconfigs/index.js';
import type { BootRequestRecord, HostRef, SpoolRecord } from '../spool/records.js';
import { AssetError, type AssetCache } from './assets.js';
import { entryScript, unknownMachineScript } from './ipxe-scripts.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { DEFAULT_EVENT_GRACE_MS, DEFAULT_MAX_WEBHOOK_BYTES, MAC_PATTERN, NOT_FOUND, WebhookReceiver, installRef, textAnswer, type EventOutcome, type WebhookAnswer } from './webhook.js';
import { sendAnswer, webhookFastPath } from './webhook-fast-path.js';

export interface BootHttpDeps {
  index: BootConfigIndex;
  assets: AssetCache;
  /** Durable: resolves once the records are on disk. */
  spool: { append(records: SpoolRecord[]): Promise<void> };
  log: Logger;
  registry: Registry;
  /** Base URL machines reach this server at (for the entry script). */
  publicURL: string;
  unknownMachine?: 'exit' | 'shell';
  maxWebhookBytes?: number;
  /** Per-source limits for requests without a valid token (default 50/s, burst 500; perSecond 0 disables). */
  rateLimit?: RateLimitOptions;
  /** How long after its verdict an installation's events are still taken (default 30 min); a new boot ends it. */
  eventGraceMs?: number;
  ready?: () => boolean;
  /** Extra read-only routes (the install-history API when this process owns the embedded database). */
  extraRoutes?: express.Router;
}

export { DEFAULT_EVENT_GRACE_MS };
const WEBHOOK_ROUTE = '/webhook/:mac/:token';
const NOCLOUD_FILES = { 'user-data': 'UserData', 'meta-data': 'MetaData', 'vendor-data': 'VendorData', 'network-config': 'NetworkConfig' } as const;

const hostRef = (c: BootConfig): HostRef => ({ namespace: c.hostNamespace, name: c.hostName, uid: c.hostUID });

export function createBootApp(deps: BootHttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const requests = new Counter({ name: 'anvil_boot_http_requests_total', help: 'HTTP requests by route and status code', labelNames: ['route', 'code'], registers: [deps.registry] });
  const events = new Counter({ name: 'anvil_webhook_events_total', help: 'Installer events by outcome', labelNames: ['outcome'], registers: [deps.registry] });
  const notFound = (res: Response): void => void res.status(404).type('text/plain').send('not found\n');
  const limiter = new RateLimiter(deps.rateLimit ?? { perSecond: 50, burst: 500 });
  const rateLimited = new Counter({ name: 'anvil_boot_http_rate_limited_total', help: 'Requests without a valid token refused with 429 because their source address sent too many', registers: [deps.registry] });
  /** Counts a request without a valid token against its source address: the 429 to answer when it is over. */
  const rateLimitAnswer = (ip: string, path: string): WebhookAnswer | undefined => {
    if (limiter.take(ip)) return undefined;
    rateLimited.inc();
    logBad('rate limited', { ip, path: redact(path) });
    return { ...textAnswer(429, 'too many requests from this address; slow down\n'), retryAfter: String(limiter.retryAfterSeconds()) };
  };
  const overLimit = (req: Request, res: Response): boolean => {
    const limited = rateLimitAnswer(req.socket.remoteAddress ?? '', req.path);
    if (limited) sendAnswer(res, limited);
    return !!limited;
  };
  // Bad input is logged, but at most a few lines a second so a flood cannot drown the log.
  let logBudget = 0;
  let logWindow = 0;
  const logBad = (msg: string, fields: Record<string, unknown>): void => {
    const now = Date.now();
    if (now - logWindow > 1000) {
      logWindow = now;
      logBudget = 10;
    }
    if (logBudget-- > 0) deps.log.info(fields, msg);
  };

  const answered = (req: IncomingMessage, route: string, path: string, status: number, startedAt: bigint): void => {
    requests.inc({ route, code: String(status) });
    if (deps.log.isLevelEnabled('debug')) deps.log.debug({ method: req.method, path: redact(path), status, ip: req.socket.remoteAddress, ms: Number(process.hrtime.bigint() - startedAt) / 1e6 }, 'request');
  };
  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => answered(req, (req.route?.path as string | undefined) ?? 'unmatched', req.path, res.statusCode, start));
    next();
  });

  const receiver = new WebhookReceiver({
    index: deps.index,
    spool: deps.spool,
    eventGraceMs: deps.eventGraceMs ?? DEFAULT_EVENT_GRACE_MS,
    refuseUnknown: (ip, path) => {
      const limited = rateLimitAnswer(ip, path);
      if (limited) return limited;
      events.inc({ outcome: 'unauthorized' });
      logBad('webhook refused: unknown host or token', { ip, path: redact(path) });
      return NOT_FOUND;
    },
    countEvent: (outcome: EventOutcome) => events.inc({ outcome }),
  });
  const failed = (err: unknown, path: string): void => deps.log.error({ err: err instanceof Error ? err.message : String(err), path: redact(path) }, 'request failed');
  const fastPath = webhookFastPath({
    receiver,
    maxBytes: deps.maxWebhookBytes ?? DEFAULT_MAX_WEBHOOK_BYTES,
    onAnswer: (req, status, startedAt) => answered(req, WEBHOOK_ROUTE, req.url ?? '', status, startedAt),
    onError: failed,
  });
  // In front of everything express does (the app function calls app.handle, for app.listen and the HTTPS listener
  // alike): the plain webhook post never reaches express.
  const expressHandle = (app as unknown as { handle: (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => void }).handle.bind(app);
  Object.assign(app, {
    handle: (req: IncomingMessage, res: ServerResponse, next?: NextFunction): void => {
      if (!fastPath(req, res)) expressHandle(req, res, next);
    },
  });

  const bootRequest = (req: Request, mac: string, served: string, config?: BootConfig, facts?: Record<string, string>): BootRequestRecord => ({
    kind: 'boot-request',
    time: new Date().toISOString(),
    mac: normalizeMac(mac),
    clientIP: req.socket.remoteAddress ?? '',
    path: redact(req.path),
    served,
    ...(config ? { host: hostRef(config) } : {}),
    ...(config?.install ? { installationId: config.install.installationId, install: installRef(config)! } : {}),
    ...(facts && Object.keys(facts).length ? { facts } : {}),
  });

  app.get('/boot.ipxe', (req, res) => {
    if (overLimit(req, res)) return;
    res.type('text/plain').send(entryScript(deps.publicURL));
  });

  app.get('/ipxe/:mac', async (req, res, next) => {
    try {
      const mac = req.params.mac;
      if (overLimit(req, res)) return;
      if (!MAC_PATTERN.test(mac)) return void res.status(400).type('text/plain').send('malformed MAC address\n');
      const facts: Record<string, string> = {};
      for (const k of ['arch', 'platform', 'uuid']) {
        const v = req.query[k];
        if (typeof v === 'string' && v.length <= 64) facts[k] = v;
      }
      const config = deps.index.byMac(mac);
      if (!config) {
        await deps.spool.append([bootRequest(req, mac, 'Rejected', undefined, facts)]);
        return void res.type('text/plain').send(unknownMachineScript(normalizeMac(mac), deps.unknownMachine ?? 'exit'));
      }
      const served = config.mode === 'install' ? 'InstallScript' : 'LocalBootScript';
      await deps.spool.append([bootRequest(req, mac, served, config, facts)]);
      // The machine booted again: the installer that reported the last verdict is gone, its grace period with it.
      if (config.closedInstall) deps.index.endGrace(config.closedInstall.installationId);
      res.type('text/plain').send(config.ipxe);
    } catch (err) {
      next(err);
    }
  });

  app.get('/nocloud/:mac/:token/:file', async (req, res, next) => {
    try {
      const { mac, token, file } = req.params;
      const kind = NOCLOUD_FILES[file as keyof typeof NOCLOUD_FILES];
      const config = MAC_PATTERN.test(mac) ? deps.index.byMac(mac) : undefined;
      const install = config?.mode === 'install' ? config.install : undefined;
      if (!kind || !install || !tokenMatches(token, install.tokenSha256) || macDashed(config!.mac) !== macDashed(mac)) {
        if (overLimit(req, res)) return;
        logBad('nocloud request refused', { ip: req.socket.remoteAddress, path: redact(req.path) });
        return notFound(res);
      }
      const body =
        kind === 'UserData' ? install.userData : kind === 'MetaData' ? install.metaData : kind === 'VendorData' ? (install.vendorData ?? '') : install.networkConfig;
      if (body === undefined) return notFound(res);
      await deps.spool.append([bootRequest(req, mac, kind, config)]);
      res.type('text/plain').send(body);
    } catch (err) {
      next(err);
    }
  });

  app.get('/assets/:sha256/:name', async (req, res, next) => {
    try {
      if (overLimit(req, res)) return;
      const artifact = /^[0-9a-fA-F]{64}$/.test(req.params.sha256) ? deps.index.artifact(req.params.sha256) : undefined;
      if (!artifact) return notFound(res);
      const path = await deps.assets.ensure(artifact);
      res.sendFile(path, { acceptRanges: true, cacheControl: true, immutable: true, maxAge: '1y', headers: { 'Content-Type': 'application/octet-stream' } }, (err) => {
        if (err && !res.headersSent) next(err);
      });
    } catch (err) {
      if (err instanceof AssetError) return void res.status(err.status).type('text/plain').send(`${err.message}\n`);
      next(err);
    }
  });

  // The installer posts each event once, synchronously, and does not retry: answer fast, after the event is durable.
  // Everything acknowledged must be storable by every sink, so the body is checked and normalised before the ack.
  // Plain posts are answered by the fast path above; this route takes the rest (other case, percent-encoded,
  // compressed bodies, other charsets) with express's body parser, and the same receiver.
  app.post(WEBHOOK_ROUTE, express.text({ type: () => true, limit: deps.maxWebhookBytes ?? DEFAULT_MAX_WEBHOOK_BYTES }), async (req, res, next) => {
    try {
      const { mac, token } = req.params;
      sendAnswer(res, await receiver.receive(mac, token, typeof req.body === 'string' ? req.body : '', req.socket.remoteAddress ?? '', req.path));
    } catch (err) {
      next(err);
    }
  });

  app.get('/healthz', (_req, res) => void res.type('text/plain').send('ok\n'));
  app.get('/readyz', (_req, res) => {
    if (deps.ready && !deps.ready()) return void res.status(503).type('text/plain').send('boot configs not synced\n');
    res.type('text/plain').send('ok\n');
  });
  app.get('/metrics', async (_req, res) => void res.type(deps.registry.contentType).send(await deps.registry.metrics()));

  if (deps.extraRoutes) app.use(deps.extraRoutes);
  app.use((req, res) => {
    if (!overLimit(req, res)) notFound(res);
  });
  // Errors a client can cause get their status; anything else is a 500 without internals.
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.too.large') return void res.status(413).json({ error: `body larger than ${deps.maxWebhookBytes ?? DEFAULT_MAX_WEBHOOK_BYTES} bytes` });
    if (err.status && err.status >= 400 && err.status < 500) return void res.status(err.status).json({ error: err.message });
    failed(err, req.path);
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  });
  return app;
}

const TOKEN_ROUTES = new Set(['nocloud', 'webhook']);
const KNOWN_FILES = new Set(Object.keys(NOCLOUD_FILES));

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Tokens never reach a log line, a status field, a metric or the history. Routing is case-insensitive and a client
 * may percent-encode any character, so the route is recognised the same way; of a token route only the route, a
 * well-formed MAC and a known NoCloud file name are kept.
 */
export function redact(path: string): string {
  const segments = path.split('/');
  const route = decodeSegment(segments[1] ?? '').toLowerCase();
  if (!TOKEN_ROUTES.has(route)) return path;
  const mac = decodeSegment(segments[2] ?? '');
  const file = decodeSegment(segments.at(-1) ?? '').toLowerCase();
  const kept = [`/${route}`, MAC_PATTERN.test(mac) ? mac : 'REDACTED', 'REDACTED'];
  if (segments.length > 4 && KNOWN_FILES.has(file)) kept.push(file);
  return kept.join('/');
}
