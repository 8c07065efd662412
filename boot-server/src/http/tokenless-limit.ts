// The rate limit of requests without a valid token, per source address (see rate-limit.ts): over it, a 429 with
// Retry-After, counted and logged (bounded).
import type { Request, Response } from 'express';
import type { Counter } from 'prom-client';
import type { BadInputLog } from './bad-input-log.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { redact } from './redact.js';
import { sendAnswer } from './webhook-fast-path.js';
import { textAnswer, type WebhookAnswer } from './webhook.js';

export interface TokenlessLimit {
  /** Counts a request without a valid token against its source address: the 429 to answer when it is over. */
  answer(ip: string, path: string): WebhookAnswer | undefined;
  /** The same for an express request: sends the 429 itself, and says whether it did. */
  overLimit(req: Request, res: Response): boolean;
}

export function tokenlessLimit(options: RateLimitOptions, rateLimited: Counter, logBad: BadInputLog): TokenlessLimit {
  const limiter = new RateLimiter(options);
  const answer = (ip: string, path: string): WebhookAnswer | undefined => {
    if (limiter.take(ip)) return undefined;
    rateLimited.inc();
    logBad('rate limited', { ip, path: redact(path) });
    return { ...textAnswer(429, 'too many requests from this address; slow down\n'), retryAfter: String(limiter.retryAfterSeconds()) };
  };
  return {
    answer,
    overLimit: (req, res) => {
      const limited = answer(req.socket.remoteAddress ?? '', req.path);
      if (limited) sendAnswer(res, limited);
      return !!limited;
    },
  };
}
