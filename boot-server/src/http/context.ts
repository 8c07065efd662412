// What every route module shares: the deps, the metrics, the answer log, the rate limit of requests without a token,
// the bounded log of bad input, and the 404.
import type { Response } from 'express';
import { badInputLog, type BadInputLog } from './bad-input-log.js';
import type { BootHttpDeps } from './deps.js';
import { bootHttpMetrics, type BootHttpMetrics } from './http-metrics.js';
import { redact } from './redact.js';
import { observeAnswers, type AnswerObserver } from './request-log.js';
import { tokenlessLimit, type TokenlessLimit } from './tokenless-limit.js';

export interface BootRouteContext {
  deps: BootHttpDeps;
  metrics: BootHttpMetrics;
  answered: AnswerObserver;
  limit: TokenlessLimit;
  logBad: BadInputLog;
  /** A request that failed for a reason of ours: logged with its path redacted. */
  failed(err: unknown, path: string): void;
}

export function createRouteContext(deps: BootHttpDeps): BootRouteContext {
  const metrics = bootHttpMetrics(deps.registry);
  const logBad = badInputLog(deps.log);
  return {
    deps,
    metrics,
    answered: observeAnswers(metrics.requests, deps.log),
    limit: tokenlessLimit(deps.rateLimit ?? { perSecond: 50, burst: 500 }, metrics.rateLimited, logBad),
    logBad,
    failed: (err, path) => deps.log.error({ err: err instanceof Error ? err.message : String(err), path: redact(path) }, 'request failed'),
  };
}

export const notFound = (res: Response): void => void res.status(404).type('text/plain').send('not found\n');
