// The read-only history REST API (JSON, keyset-paginated with `next` links), served by the operator. Mount it on
// any express app: app.use(historyRouter(store)). The paths it serves start with /api/v1/ (see openapi.ts).
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from '../logging.js';
import { type HistoryStore, MAX_PAGE_SIZE } from '../db/history-store.js';
import { derivePhases } from '../db/phases.js';
import { HistoryQueryError, isUuid } from '../db/store-util.js';
import { openApiDocument } from './openapi.js';

export interface HistoryRouterOptions {
  log?: Logger;
  now?: () => Date;
  /** At most this many events are read to derive an installation's phases (default 20 000). */
  maxPhaseEvents?: number;
}

class BadRequest extends Error {}
class NotFound extends Error {}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const MAX_WINDOW_SECONDS = 366 * 86_400;
const NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** "7d" -> seconds; BadRequest otherwise. */
export function parseDuration(value: string, param: string): number {
  const m = /^(\d{1,6})([smhdw])$/.exec(value);
  if (!m) throw new BadRequest(`${param} must be a duration such as 30m, 24h, 7d or 2w, got "${value}"`);
  const seconds = Number(m[1]) * UNITS[m[2]!]!;
  if (seconds <= 0 || seconds > MAX_WINDOW_SECONDS) throw new BadRequest(`${param} must be more than 0 and at most 366d, got "${value}"`);
  return seconds;
}

function parseSince(value: string, now: Date): Date {
  if (/^\d+[smhdw]$/.test(value)) return new Date(now.getTime() - parseDuration(value, 'since') * 1000);
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value) || !Number.isFinite(Date.parse(value))) {
    throw new BadRequest(`since must be an RFC 3339 time (2026-05-01T00:00:00Z) or a duration such as 24h or 7d, got "${value}"`);
  }
  return new Date(value);
}

/** The query's parameters as strings, refusing unknown and repeated ones. */
function query(req: Request, allowed: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.query)) {
    if (!allowed.includes(k)) throw new BadRequest(`unknown query parameter "${k}"; allowed: ${allowed.join(', ') || 'none'}`);
    if (typeof v !== 'string') throw new BadRequest(`query parameter "${k}" must be given once, as a plain value`);
    out[k] = v;
  }
  return out;
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,7}$/.test(value) || Number(value) < 1 || Number(value) > MAX_PAGE_SIZE) throw new BadRequest(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}, got "${value}"`);
  return Number(value);
}

function checkName(value: string, what: string): string {
  if (!NAME_RE.test(value)) throw new BadRequest(`${what} "${value}" is not a valid Kubernetes name`);
  return value;
}

function checkId(value: string): string {
  if (!isUuid(value)) throw new BadRequest(`installation id must be a UUID, got "${value}"`);
  return value.toLowerCase();
}

/** Relative URL of the same request with the cursor replaced. */
function nextLink(req: Request, cursor: string | undefined): string | null {
  if (!cursor) return null;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query)) if (k !== 'cursor' && typeof v === 'string') params.set(k, v);
  params.set('cursor', cursor);
  return `${req.baseUrl}${req.path}?${params.toString()}`;
}

export function historyRouter(store: HistoryStore, opts: HistoryRouterOptions = {}): Router {
  const router = express.Router();
  const now = opts.now ?? (() => new Date());
  const maxPhaseEvents = opts.maxPhaseEvents ?? 20_000;

  router.use('/api/v1', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  router.get('/api/v1/openapi.json', (req, res) => {
    query(req, []);
    res.json(openApiDocument);
  });

  router.get('/api/v1/hosts/:namespace/:name/installations', async (req, res) => {
    const q = query(req, ['limit', 'cursor']);
    const host = { namespace: checkName(req.params.namespace!, 'namespace'), name: checkName(req.params.name!, 'name') };
    const page = await store.listInstallations(host, { limit: parseLimit(q.limit), cursor: q.cursor });
    res.json({ items: page.items, next: nextLink(req, page.nextCursor) });
  });

  router.get('/api/v1/installations/:id', async (req, res) => {
    const q = query(req, ['limit']);
    const id = checkId(req.params.id!);
    const limit = parseLimit(q.limit) ?? 200;
    const installation = await store.getInstallation(id);
    if (!installation) throw new NotFound(`no installation ${id}`);
    const first = await store.listInstallerEvents(id, { limit });
    // Phases need every event: read on (bounded) past the first page.
    const all = [...first.items];
    for (let cursor = first.nextCursor; cursor && all.length < maxPhaseEvents; ) {
      const page = await store.listInstallerEvents(id, { limit: MAX_PAGE_SIZE, cursor });
      all.push(...page.items);
      cursor = page.nextCursor;
    }
    const eventsNext = first.nextCursor ? `${req.baseUrl}/api/v1/installations/${id}/events?${new URLSearchParams({ limit: String(limit), cursor: first.nextCursor }).toString()}` : null;
    res.json({ installation, phases: derivePhases(all), events: first.items, eventsNext });
  });

  router.get('/api/v1/installations/:id/events', async (req, res) => {
    const q = query(req, ['limit', 'cursor']);
    const id = checkId(req.params.id!);
    const page = await store.listInstallerEvents(id, { limit: parseLimit(q.limit), cursor: q.cursor });
    if (!page.items.length && !q.cursor && !(await store.getInstallation(id))) throw new NotFound(`no installation ${id}`);
    res.json({ items: page.items, next: nextLink(req, page.nextCursor) });
  });

  router.get('/api/v1/failures', async (req, res) => {
    const q = query(req, ['since', 'namespace', 'limit', 'cursor']);
    const since = parseSince(q.since ?? '7d', now());
    const namespace = q.namespace === undefined ? undefined : checkName(q.namespace, 'namespace');
    const page = await store.listFailures({ since, namespace }, { limit: parseLimit(q.limit), cursor: q.cursor });
    res.json({ items: page.items, next: nextLink(req, page.nextCursor) });
  });

  router.get('/api/v1/templates/:namespace/:name/rollout-decisions', async (req, res) => {
    const q = query(req, ['limit', 'cursor']);
    const template = { namespace: checkName(req.params.namespace!, 'namespace'), name: checkName(req.params.name!, 'name') };
    const page = await store.listRolloutDecisions(template, { limit: parseLimit(q.limit), cursor: q.cursor });
    res.json({ items: page.items, next: nextLink(req, page.nextCursor) });
  });

  router.get('/api/v1/stats', async (req, res) => {
    const q = query(req, ['window']);
    const window = q.window ?? '7d';
    const until = now();
    const since = new Date(until.getTime() - parseDuration(window, 'window') * 1000);
    const stats = await store.installStats({ since, until });
    res.json({ window, ...stats });
  });

  router.use('/api/v1', (req, _res, next) => next(new NotFound(`no such API path: ${req.method} ${req.baseUrl}${req.path}`)));

  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err instanceof BadRequest || err instanceof HistoryQueryError) return void res.status(400).json({ error: 'BadRequest', message: err.message });
    if (err instanceof NotFound) return void res.status(404).json({ error: 'NotFound', message: err.message });
    opts.log?.error({ err: err instanceof Error ? err.message : String(err), path: req.path }, 'history API request failed');
    res.status(500).json({ error: 'InternalError', message: 'the history database could not answer; see the operator log' });
  });

  return router;
}
