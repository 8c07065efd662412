// Authentication the Kubernetes way: every /api request carries a bearer token the API server checks (TokenReview),
// and RBAC decides which namespaces' hosts it shows (SubjectAccessReview for `list baremetalhosts.anvil.dev`).
//
// EventSource cannot send an Authorization header, so the page first POSTs /api/session with its header; the answer
// sets the same token as an HttpOnly, SameSite=Strict cookie scoped to /api for a few minutes. The cookie is checked
// exactly like the header, on every request, so it works on every replica (no signing key to share), ends when the
// token ends, and never reaches the page's scripts or another site's requests.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AuthorizerUnavailableError, type Authorizer, type ListedResource, type UserInfo } from './ports.js';

export const SESSION_COOKIE = 'anvil_dashboard_token';
export const SESSION_MAX_AGE_SECONDS = 600;

export const sendError = (res: Response, status: number, message: string): void => {
  const error = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 413: 'PayloadTooLarge', 503: 'ServiceUnavailable' }[status] ?? 'Error';
  res.status(status).set('Cache-Control', 'no-store').json({ error, message });
};

function cookieToken(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE && v.length) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** The bearer token of the request: its Authorization header, else the session cookie (EventSource, links). */
export function requestToken(req: Request, allowCookie = true): string | undefined {
  const header = req.headers.authorization;
  if (header) return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  return allowCookie ? cookieToken(req) : undefined;
}

export const userOf = (res: Response): UserInfo => res.locals.user as UserInfo;

/** Sets res.locals.user, or answers 401 (no token, token refused) or 503 (the API server could not be asked). */
export function authenticated(authorizer: Authorizer, opts: { headerOnly?: boolean } = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const token = requestToken(req, !opts.headerOnly);
    if (!token) {
      const malformed = req.headers.authorization !== undefined;
      sendError(res, 401, malformed ? 'the Authorization header must be "Bearer <token>"' : 'sign in with a Kubernetes bearer token (Authorization: Bearer <token>), e.g. from `kubectl create token <serviceaccount>`');
      return;
    }
    authorizer.authenticate(token).then(
      (user) => {
        if (!user) {
          sendError(res, 401, 'the Kubernetes API server did not accept this token (TokenReview): it is wrong or has expired');
          return;
        }
        res.locals.user = user;
        next();
      },
      (err: unknown) => unavailable(res, err, next),
    );
  };
}

export function unavailable(res: Response, err: unknown, next: NextFunction): void {
  if (err instanceof AuthorizerUnavailableError) sendError(res, 503, err.message);
  else next(err);
}

/** The namespaces among `candidates` the user may list `resource` in: 'all' when allowed cluster-wide. */
export async function visibleNamespaces(
  authorizer: Authorizer,
  user: UserInfo,
  candidates: Iterable<string>,
  resource: ListedResource = 'baremetalhosts',
): Promise<'all' | Set<string>> {
  if (await authorizer.mayList(user, resource, undefined)) return 'all';
  const unique = [...new Set(candidates)];
  const allowed = await Promise.all(unique.map((ns) => authorizer.mayList(user, resource, ns)));
  return new Set(unique.filter((_, i) => allowed[i]));
}

export const forbiddenMessage = (user: UserInfo, namespace?: string, resource: ListedResource = 'baremetalhosts'): string =>
  `${user.username} may not list ${resource}.anvil.dev ${namespace ? `in namespace ${namespace}` : 'in any namespace'} (RBAC: grant the list verb on ${resource} in the anvil.dev API group)`;

/** POST /api/session: the bearer header becomes the session cookie EventSource sends. DELETE clears it. */
export function sessionHandlers(authorizer: Authorizer): { create: RequestHandler[]; remove: RequestHandler } {
  return {
    create: [
      authenticated(authorizer, { headerOnly: true }),
      (req, res) => {
        const token = requestToken(req, false)!;
        res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/api', secure: req.secure, maxAge: SESSION_MAX_AGE_SECONDS * 1000 });
        res.set('Cache-Control', 'no-store').json({ username: userOf(res).username, expiresInSeconds: SESSION_MAX_AGE_SECONDS });
      },
    ],
    remove: (req, res) => {
      res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/api', secure: req.secure });
      res.status(204).end();
    },
  };
}
