// express's Application has a `handle(req, res, next)` method (the app function calls it for every request, so
// app.listen and an HTTPS server given the app both go through it), which @types/express does not declare. This
// augmentation declares it, so the fast paths (webhook, boot scripts) can go in front of express without a cast.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, NextFunction } from 'express';

/** express's internal request entry point. */
export type ExpressHandle = (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => void;

declare module 'express-serve-static-core' {
  interface Application {
    handle: ExpressHandle;
  }
}

/** Puts `first` in front of everything express does: the app function calls app.handle, for app.listen and the HTTPS listener alike. */
export function inFrontOfExpress(app: Express, first: (req: IncomingMessage, res: ServerResponse) => boolean): void {
  const expressHandle = app.handle.bind(app);
  const handle: ExpressHandle = (req, res, next) => {
    if (!first(req, res)) expressHandle(req, res, next);
  };
  app.handle = handle;
}
