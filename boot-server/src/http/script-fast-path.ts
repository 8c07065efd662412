// The small answers a booting machine asks for (the entry script, its own iPXE script, its NoCloud seed), served by
// plain node:http in front of express, as the webhook's posts are: express's router and response helpers took a third
// of the boot-server's time on these routes (docs/benchmarks.md). Only the plain forms are taken here: GET or HEAD of
// /boot.ipxe, /ipxe/<mac>[?query] and /nocloud/<mac>/<token>/<file>, exactly so spelled. Anything else (other case,
// a trailing slash, percent-encoding in the path) goes on to express, whose routes give the same answers: both call
// the same functions (ipxe-routes.ts, nocloud-routes.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { BootRouteContext } from './context.js';
import { ENTRY_ROUTE, entryAnswer, MACHINE_SCRIPT_ROUTE, machineScriptAnswer } from './ipxe-routes.js';
import { NOCLOUD_ROUTE, noCloudAnswer } from './nocloud-routes.js';
import { sendAnswer } from './webhook-fast-path.js';
import { INTERNAL_ERROR, type WebhookAnswer } from './webhook.js';

interface Routed {
  route: string;
  answer: WebhookAnswer | Promise<WebhookAnswer>;
}

function route(ctx: BootRouteContext, path: string, query: string | undefined, ip: string): Routed | undefined {
  if (path.includes('%')) return undefined;
  if (path === ENTRY_ROUTE) return { route: ENTRY_ROUTE, answer: entryAnswer(ctx, ip, path) };
  const parts = path.split('/');
  if (parts[1] === 'ipxe' && parts.length === 3 && parts[2]) {
    return { route: MACHINE_SCRIPT_ROUTE, answer: machineScriptAnswer(ctx, parts[2], query === undefined ? {} : parseQuery(query), ip, path) };
  }
  if (parts[1] === 'nocloud' && parts.length === 5 && parts[2] && parts[3] && parts[4]) {
    return { route: NOCLOUD_ROUTE, answer: noCloudAnswer(ctx, parts[2], parts[3], parts[4], ip, path) };
  }
  return undefined;
}

/** A request handler that answers the plain boot-file requests itself and returns false for everything else. */
export function scriptFastPath(ctx: BootRouteContext): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const startedAt = process.hrtime.bigint();
    let routed: Routed | undefined;
    const answer = (route: string, a: WebhookAnswer): void => {
      sendAnswer(res, a);
      ctx.answered(req, route, path, a.status, startedAt);
    };
    const failed = (route: string, err: unknown): void => {
      ctx.failed(err, path);
      answer(route, INTERNAL_ERROR);
    };
    try {
      routed = route(ctx, path, q < 0 ? undefined : url.slice(q + 1), req.socket.remoteAddress ?? '');
    } catch (err) {
      failed('unmatched', err);
      return true;
    }
    if (!routed) return false;
    const { route: name, answer: result } = routed;
    if (!(result instanceof Promise)) answer(name, result);
    else
      result.then(
        (a) => answer(name, a),
        (err: unknown) => failed(name, err),
      );
    return true;
  };
}
