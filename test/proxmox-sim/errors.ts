// The errors a handler throws to answer as PVE does: the status, PVE's message (ending in a newline, as its `die`
// messages do) and, for parameter errors, the `errors` object.
import type { ParamErrors } from './validate.js';

export class SimError extends Error {
  constructor(readonly status: number, message: string, readonly errors?: ParamErrors) {
    super(message);
  }
}

/** 400 "Parameter verification failed." with the per-parameter errors. */
export const paramError = (errors: ParamErrors) => new SimError(400, 'Parameter verification failed.\n', errors);

/** 500 with PVE's message, as a handler's `die` answers. */
export const fail500 = (message: string) => new SimError(500, `${message}\n`);

export const forbidden = (message: string) => new SimError(403, `${message}\n`);
