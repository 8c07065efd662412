// The webhook's hot path, served by plain node:http in front of express: during an install burst the boot-server is
// busy mostly with these posts, and express with its router and body parser took 30% of its time (docs/benchmarks.md). Only the plain form is taken here: POST /webhook/<mac>/<token> with an identity-encoded
// UTF-8 body; anything else (other case, percent-encoding, a query, another charset, a compressed body) goes to the
// express route, which answers it through the same WebhookReceiver.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_MAX_WEBHOOK_BYTES, INTERNAL_ERROR, tooLarge, type WebhookAnswer, type WebhookReceiver } from './webhook.js';

export interface FastPathOptions {
  receiver: WebhookReceiver;
  maxBytes?: number;
  /** Every answer, as express's request metric counts it. */
  onAnswer(req: IncomingMessage, status: number, startedAt: bigint): void;
  /** An answer that could not be given (the spool failed): logged like express's error handler does. */
  onError(err: unknown, path: string): void;
}

const PREFIX = '/webhook/';
/** No other charset parameter than UTF-8 (what the express route decodes too, but through iconv). */
const UTF8_ONLY = /^[^;]*;\s*charset\s*=\s*"?utf-?8"?\s*$/i;
const noop = (): void => undefined;

/** Writes an answer (also for the express route, so both give the same bytes). */
export function sendAnswer(res: ServerResponse, answer: WebhookAnswer): void {
  if (res.headersSent || res.destroyed) return;
  const headers = ['Content-Type', answer.contentType, 'Content-Length', String(Buffer.byteLength(answer.body))];
  if (answer.retryAfter) headers.push('Retry-After', answer.retryAfter);
  res.writeHead(answer.status, headers);
  // A string body goes out in one write together with the head.
  res.end(answer.body);
}

/** The mac and token of a plain webhook URL, or undefined for anything express should route. */
export function plainWebhookPath(url: string): { mac: string; token: string } | undefined {
  if (!url.startsWith(PREFIX)) return undefined;
  const slash = url.indexOf('/', PREFIX.length);
  if (slash <= PREFIX.length || slash === url.length - 1) return undefined;
  const token = url.slice(slash + 1);
  if (token.includes('/') || /[%?#]/.test(url)) return undefined;
  return { mac: url.slice(PREFIX.length, slash), token };
}

/** A request handler that answers plain webhook posts itself and returns false for everything else. */
export function webhookFastPath(options: FastPathOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const limit = options.maxBytes ?? DEFAULT_MAX_WEBHOOK_BYTES;
  const oversize = tooLarge(limit);

  const answer = (req: IncomingMessage, res: ServerResponse, startedAt: bigint, a: WebhookAnswer): void => {
    sendAnswer(res, a);
    options.onAnswer(req, a.status, startedAt);
  };

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const target = plainWebhookPath(req.url ?? '');
    if (!target) return false;
    const contentType = req.headers['content-type'];
    if (req.headers['content-encoding'] !== undefined || (contentType !== undefined && /charset/i.test(contentType) && !UTF8_ONLY.test(contentType))) return false;

    const startedAt = process.hrtime.bigint();
    const declared = req.headers['content-length'];
    // As the express route does: a body over the limit is read off (not kept) and refused once the request is in.
    let tooBig = declared !== undefined && Number(declared) > limit;
    let size = 0;
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    req.on('data', (chunk: Buffer) => {
      if (tooBig) return;
      size += chunk.length;
      if (size > limit) {
        tooBig = true;
        first = more = undefined;
      } else if (!first) first = chunk;
      else (more ??= [first]).push(chunk);
    });
    // A client that goes away mid-body gets no answer and nothing is spooled.
    req.on('error', noop);
    req.on('end', () => {
      if (tooBig) return answer(req, res, startedAt, oversize);
      let body = more ? Buffer.concat(more, size).toString('utf8') : (first?.toString('utf8') ?? '');
      if (body.charCodeAt(0) === 0xfeff) body = body.slice(1); // iconv strips a byte order mark on the express route
      const path = req.url!;
      let result: WebhookAnswer | Promise<WebhookAnswer>;
      try {
        result = options.receiver.receive(target.mac, target.token, body, req.socket.remoteAddress ?? '', path);
      } catch (err) {
        options.onError(err, path);
        return answer(req, res, startedAt, INTERNAL_ERROR);
      }
      if (!(result instanceof Promise)) return answer(req, res, startedAt, result);
      result.then(
        (a) => answer(req, res, startedAt, a),
        (err: unknown) => {
          options.onError(err, path);
          answer(req, res, startedAt, INTERNAL_ERROR);
        },
      );
    });
    return true;
  };
}
