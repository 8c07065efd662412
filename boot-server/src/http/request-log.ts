// Every answer, whether express or the webhook fast path gave it: counted by route pattern and status, and logged at
// debug level with its path redacted.
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { redact } from './redact.js';

export type AnswerObserver = (req: IncomingMessage, route: string, path: string, status: number, startedAt: bigint) => void;

export function observeAnswers(requests: Counter<'route' | 'code'>, log: Logger): AnswerObserver {
  return (req, route, path, status, startedAt) => {
    requests.inc({ route, code: String(status) });
    if (log.isLevelEnabled('debug')) log.debug({ method: req.method, path: redact(path), status, ip: req.socket.remoteAddress, ms: Number(process.hrtime.bigint() - startedAt) / 1e6 }, 'request');
  };
}

/** Express middleware that reports each answer once it is sent, labelled with the route that matched (or "unmatched"). */
export function requestLog(answered: AnswerObserver): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => answered(req, (req.route?.path as string | undefined) ?? 'unmatched', req.path, res.statusCode, start));
    next();
  };
}
