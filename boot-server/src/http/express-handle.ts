// express's Application has a `handle(req, res, next)` method (the app function calls it for every request, so
// app.listen and an HTTPS server given the app both go through it), which @types/express does not declare. This
// augmentation declares it, so webhook-route.ts can put its fast path in front of express without a cast.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction } from 'express';

/** express's internal request entry point. */
export type ExpressHandle = (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => void;

declare module 'express-serve-static-core' {
  interface Application {
    handle: ExpressHandle;
  }
}
