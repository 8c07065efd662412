// The dashboard's routes, as one express Router the operator mounts on its own port (never on the boot-server's
// port that installers reach). Every route under /api needs a token the API server accepts, and shows only the
// namespaces where RBAC lets its user list BareMetalHosts; the actions (action-routes.ts) also need RBAC to patch the host.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { BareMetalHost } from '@anvil/core/api';
import { authenticated, forbiddenMessage, sendError, sessionHandlers, unavailable, userOf, visibleNamespaces } from './auth.js';
import { CONTENT_SECURITY_POLICY, DEFAULT_ASSETS_DIR, indexHtml, readManifest } from './assets.js';
import { eventStream } from './events.js';
import { failureReport, sinceOf } from './failures.js';
import { allEvents, hostDetail } from './host-detail.js';
import { pageOfHosts, parseHostQuery } from './host-rows.js';
import { discoveredHandler, templatesHandler } from './inventory-routes.js';
import { actionHandler, hostActionsView } from './action-routes.js';
import type { Authorizer, BootConfigSource, HistoryReader, HostEventReader, HostSource, HostWriter, TemplateRevisionReader, TemplateSource, UserInfo } from './ports.js';
import { revisionDiffHandler } from './template-revisions.js';
import { renderedFiles } from './rendered-files.js';

export interface DashboardOptions {
  hosts: HostSource;
  /** The AutoinstallTemplates and ProxmoxTemplates; without it GET /api/templates answers 404 and says why. */
  templates?: TemplateSource;
  authorizer: Authorizer;
  /** The install history; without it the host view shows status only and says why. */
  history?: HistoryReader;
  /** Carries out the actions (reinstall, reboot, accept); without it the dashboard is read-only. */
  writer?: HostWriter;
  /** The published boot configs, for the rendered files; without it GET .../rendered answers 404 and says why. */
  bootConfigs?: BootConfigSource;
  /** The Kubernetes Events about hosts; without it GET .../events answers 404 and says why. */
  events?: HostEventReader;
  /** The kept template revisions, for their diffs; without it GET /api/templates/.../revisions answers 404. */
  revisions?: TemplateRevisionReader;
  log: Logger;
  /** Where the built browser app is (default dashboard/dist/web). */
  assetsDir?: string;
  /** Interval of the event stream's heartbeat (default 15 s). */
  heartbeatMs?: number;
}

type Handler = (req: Request, res: Response, next: NextFunction) => Promise<void>;
const wrap =
  (h: Handler) =>
  (req: Request, res: Response, next: NextFunction): void => {
    h(req, res, next).catch((err: unknown) => unavailable(res, err, next));
  };

export function dashboardRouter(opts: DashboardOptions): Router {
  const router = express.Router();
  const assetsDir = opts.assetsDir ?? DEFAULT_ASSETS_DIR;
  const auth = authenticated(opts.authorizer);
  router.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
    next();
  });

  router.get('/', (req, res) => {
    const manifest = readManifest(assetsDir);
    if (!manifest) {
      sendError(res, 503, `the dashboard's browser app is not built (no ${assetsDir}/manifest.json): run npm run build`);
      return;
    }
    res.set({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache', 'Content-Security-Policy': CONTENT_SECURITY_POLICY });
    res.send(indexHtml(manifest, req.baseUrl));
  });
  router.use('/static', express.static(assetsDir, { immutable: true, maxAge: '365d', index: false, fallthrough: false, dotfiles: 'deny' }));

  const session = sessionHandlers(opts.authorizer);
  router.post('/api/session', ...session.create);
  router.delete('/api/session', session.remove);

  router.get(
    '/api/hosts',
    auth,
    wrap(async (req, res) => {
      let query;
      try {
        query = parseHostQuery(req.query as Record<string, unknown>);
      } catch (err) {
        sendError(res, 400, (err as Error).message);
        return;
      }
      const user = userOf(res);
      const all = opts.hosts.list();
      if (query.namespace && !(await opts.authorizer.mayListHosts(user, query.namespace))) {
        sendError(res, 403, forbiddenMessage(user, query.namespace));
        return;
      }
      const visible = query.namespace ? 'all' : await visibleNamespaces(opts.authorizer, user, all.map((h) => h.metadata.namespace ?? ''));
      if (visible !== 'all' && visible.size === 0) {
        sendError(res, 403, forbiddenMessage(user));
        return;
      }
      const hosts = visible === 'all' ? all : all.filter((h) => visible.has(h.metadata.namespace ?? ''));
      res.set('Cache-Control', 'no-store').json({ ...pageOfHosts(hosts, query), username: user.username });
    }),
  );

  const visibleHost = async (req: Request, res: Response) => {
    const { namespace, name } = req.params as { namespace: string; name: string };
    const user = userOf(res);
    if (!(await opts.authorizer.mayListHosts(user, namespace))) {
      sendError(res, 403, forbiddenMessage(user, namespace));
      return undefined;
    }
    const host = opts.hosts.get(namespace, name);
    if (!host) sendError(res, 404, `no BareMetalHost ${namespace}/${name}`);
    return host;
  };

  router.get(
    '/api/hosts/:namespace/:name',
    auth,
    wrap(async (req, res) => {
      const host = await visibleHost(req, res);
      if (!host) return;
      const [detail, actions] = await Promise.all([hostDetail(host, opts.history), hostActionsView(opts, userOf(res), host)]);
      res.set('Cache-Control', 'no-store').json({ ...detail, actions });
    }),
  );

  /** A host route that needs, besides seeing the host, one more permission in its namespace. */
  const guardedHostRoute = (
    path: string,
    may: (user: UserInfo, namespace: string) => Promise<boolean>,
    forbidden: (user: UserInfo, namespace: string) => string,
    handle: (host: BareMetalHost, namespace: string, res: Response) => Promise<void> | void,
  ) =>
    router.get(
      path,
      auth,
      wrap(async (req, res) => {
        const host = await visibleHost(req, res);
        if (!host) return;
        const namespace = host.metadata.namespace ?? '';
        const user = userOf(res);
        if (!(await may(user, namespace))) return sendError(res, 403, forbidden(user, namespace));
        await handle(host, namespace, res);
      }),
    );

  // The files the machine receives now, masked; only with RBAC to read Secrets in the namespace.
  guardedHostRoute(
    '/api/hosts/:namespace/:name/rendered',
    (user, ns) => opts.authorizer.mayGetSecrets(user, ns),
    (user, ns) => `${user.username} may not get secrets in namespace ${ns}: the rendered files are the host's boot config Secret there (RBAC: grant the get verb on secrets)`,
    (host, namespace, res) => {
      if (!opts.bootConfigs) return sendError(res, 404, 'the boot configs are not available here (this dashboard server was started without them)');
      const config = opts.bootConfigs.bootConfigOf(namespace, host.metadata.name ?? '');
      if (!config) return sendError(res, 404, `${namespace}/${host.metadata.name} has no published boot config (it is not Provisioning, Installing or Provisioned yet)`);
      res.set('Cache-Control', 'no-store').json(renderedFiles(config));
    },
  );

  // The Kubernetes Events about the host, newest first; only with RBAC to list events in the namespace.
  guardedHostRoute(
    '/api/hosts/:namespace/:name/events',
    (user, ns) => opts.authorizer.mayListEvents(user, ns),
    (user, ns) => `${user.username} may not list events.events.k8s.io in namespace ${ns} (RBAC: grant the list verb on events in the events.k8s.io API group)`,
    async (host, namespace, res) => {
      if (!opts.events) return sendError(res, 404, 'the events are not available here (this dashboard server was started without an event reader)');
      res.set('Cache-Control', 'no-store').json({ items: await opts.events.hostEvents(namespace, host.metadata.uid ?? '') });
    },
  );

  // The raw history of one attempt of the host, as stored (a link from the host view).
  router.get(
    '/api/hosts/:namespace/:name/installations/:id',
    auth,
    wrap(async (req, res) => {
      const host = await visibleHost(req, res);
      if (!host) return;
      const id = (req.params as { id: string }).id;
      const installation = opts.history && /^[0-9a-f-]{36}$/i.test(id) ? await opts.history.getInstallation(id) : undefined;
      if (!opts.history) return sendError(res, 404, 'the install history is not available here (the operator runs without --database-url)');
      if (!installation || installation.host.namespace !== host.metadata.namespace || installation.host.name !== host.metadata.name) {
        return sendError(res, 404, `no installation ${id} of ${host.metadata.namespace}/${host.metadata.name}`);
      }
      res.set('Cache-Control', 'no-store').json({ installation, events: await allEvents(opts.history, id) });
    }),
  );

  router.get(
    '/api/failures',
    auth,
    wrap(async (req, res) => {
      let since: Date;
      try {
        since = sinceOf(req.query.since, new Date());
      } catch (err) {
        return sendError(res, 400, (err as Error).message);
      }
      const user = userOf(res);
      if (!opts.history) return sendError(res, 404, 'the install history is not available here (the operator runs without --database-url)');
      const visible = await visibleNamespaces(opts.authorizer, user, opts.hosts.list().map((h) => h.metadata.namespace ?? ''));
      if (visible !== 'all' && visible.size === 0) return sendError(res, 403, forbiddenMessage(user));
      res.set('Cache-Control', 'no-store').json(await failureReport(opts.history, opts.authorizer, user, since));
    }),
  );

  router.post(
    '/api/hosts/:namespace/:name/actions/:action',
    authenticated(opts.authorizer, { headerOnly: true }),
    express.json({ limit: '4kb', strict: true }),
    wrap(actionHandler(opts)),
  );
  router.get('/api/templates', auth, wrap(templatesHandler(opts)));
  router.get('/api/templates/:namespace/:name/revisions/:from/:to', auth, wrap(revisionDiffHandler(opts)));
  router.get('/api/discovered', auth, wrap(discoveredHandler(opts)));
  router.get('/api/events', auth, wrap(eventStream({ hosts: opts.hosts, authorizer: opts.authorizer, log: opts.log, heartbeatMs: opts.heartbeatMs ?? 15_000 })));
  router.use('/api', (_req, res) => sendError(res, 404, 'no such dashboard API route'));
  // a body express.json could not take
  router.use('/api', (err: { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (err.type === 'entity.parse.failed') return sendError(res, 400, 'the body must be a JSON object');
    if (err.type === 'entity.too.large') return sendError(res, 413, 'the body must be at most 4 KiB');
    next(err);
  });
  return router;
}
