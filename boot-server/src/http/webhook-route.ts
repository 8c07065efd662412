// The installer's progress webhook. The installer posts each event once, synchronously, and does not retry: answer
// fast, after the event is durable. Everything acknowledged must be storable by every sink, so the body is checked and
// normalised before the ack (webhook.ts). Plain posts are answered by the node:http fast path in front of express
// (webhook-fast-path.ts); the express route takes the rest (other case, percent-encoded, compressed bodies, other
// charsets) with express's body parser, and the same receiver.
import express, { type Express } from 'express';
import { inFrontOfExpress } from './express-handle.js';
import type { BootRouteContext } from './context.js';
import { redact } from './redact.js';
import { sendAnswer, webhookFastPath } from './webhook-fast-path.js';
import { DEFAULT_EVENT_GRACE_MS, DEFAULT_MAX_WEBHOOK_BYTES, NOT_FOUND, WebhookReceiver, type EventOutcome } from './webhook.js';

const WEBHOOK_ROUTE = '/webhook/:mac/:token';

export function mountWebhook(app: Express, { deps, metrics, limit, logBad, answered, failed }: BootRouteContext): void {
  const maxBytes = deps.maxWebhookBytes ?? DEFAULT_MAX_WEBHOOK_BYTES;
  const receiver = new WebhookReceiver({
    index: deps.index,
    spool: deps.spool,
    eventGraceMs: deps.eventGraceMs ?? DEFAULT_EVENT_GRACE_MS,
    refuseUnknown: (ip, path) => {
      const limited = limit.answer(ip, path);
      if (limited) return limited;
      metrics.events.inc({ outcome: 'unauthorized' });
      logBad('webhook refused: unknown host or token', { ip, path: redact(path) });
      return NOT_FOUND;
    },
    countEvent: (outcome: EventOutcome) => metrics.events.inc({ outcome }),
  });
  inFrontOfExpress(
    app,
    webhookFastPath({ receiver, maxBytes, onAnswer: (req, status, startedAt) => answered(req, WEBHOOK_ROUTE, req.url ?? '', status, startedAt), onError: failed }),
  );
  app.post(WEBHOOK_ROUTE, express.text({ type: () => true, limit: maxBytes }), async (req, res, next) => {
    try {
      const { mac, token } = req.params;
      sendAnswer(res, await receiver.receive(mac, token, typeof req.body === 'string' ? req.body : '', req.socket.remoteAddress ?? '', req.path));
    } catch (err) {
      next(err);
    }
  });
}
