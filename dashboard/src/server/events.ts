// GET /api/events: server-sent events fed by the informer watch (HostSource.watch), not by polling. Each host added,
// changed or removed becomes one `host` event with its fleet row, in the order the cache saw them, for the namespaces
// the user may list. A heartbeat every few seconds keeps proxies from closing a quiet stream and re-checks the token
// and RBAC (through the authorizer's short cache): a stream whose user lost access is ended with `unauthorized`.
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { hostRow } from './host-rows.js';
import { forbiddenMessage, requestToken, sendError, userOf } from './auth.js';
import type { Authorizer, HostChange, HostSource, UserInfo } from './ports.js';

export interface EventStreamOptions {
  hosts: HostSource;
  authorizer: Authorizer;
  log: Logger;
  heartbeatMs: number;
}

/** Remembers, per stream, which namespaces the user may see (the authorizer caches the answers for a short while). */
function namespaceGate(authorizer: Authorizer, user: UserInfo) {
  return async (namespace: string): Promise<boolean> => (await authorizer.mayListHosts(user, undefined)) || authorizer.mayListHosts(user, namespace);
}

export function eventStream(opts: EventStreamOptions) {
  return async (req: Request, res: Response): Promise<void> => {
    const user = userOf(res);
    const only = typeof req.query.namespace === 'string' && req.query.namespace ? req.query.namespace : undefined;
    const mayList = namespaceGate(opts.authorizer, user);
    const namespaces = only ? [only] : [...new Set(opts.hosts.list().map((h) => h.metadata.namespace ?? ''))];
    const anyVisible = (await opts.authorizer.mayListHosts(user, undefined)) || (await Promise.all(namespaces.map(mayList))).some(Boolean);
    if (!anyVisible || (only && !(await mayList(only)))) {
      sendError(res, 403, forbiddenMessage(user, only));
      return;
    }

    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    const send = (event: string, data: unknown): void => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    send('ready', { username: user.username });

    // One chain per stream: the visibility checks are asynchronous, the events stay in the cache's order.
    let chain: Promise<void> = Promise.resolve();
    let open = true;
    const stopWatch = opts.hosts.watch((change: HostChange) => {
      const namespace = change.host.metadata.namespace ?? '';
      if (only && namespace !== only) return;
      chain = chain
        .then(async () => {
          if (open && (await mayList(namespace))) send('host', { type: change.type, host: hostRow(change.host) });
        })
        .catch((err: unknown) => opts.log.warn({ err }, 'dashboard event not sent'));
    });

    const token = requestToken(req);
    const heartbeat = setInterval(() => {
      void (async () => {
        const still = token ? await opts.authorizer.authenticate(token) : undefined;
        if (!open) return;
        if (!still || !(only ? await mayList(only) : true)) {
          send('unauthorized', { message: 'the token is no longer accepted, or its access was taken away' });
          close();
          return;
        }
        send('heartbeat', { time: new Date().toISOString() });
      })().catch(() => {
        // The API server could not be asked this time: the next heartbeat asks again.
      });
    }, opts.heartbeatMs);

    const close = (): void => {
      if (!open) return;
      open = false;
      clearInterval(heartbeat);
      stopWatch();
      res.end();
    };
    req.on('close', close);
    res.on('error', close);
  };
}
