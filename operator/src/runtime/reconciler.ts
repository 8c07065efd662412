// The reconcile contract, as controller-runtime's: level-based and idempotent; return requeueAfter to be called
// again later, throw to be retried with per-item exponential backoff.

import type { ReconcileResult } from './result.js';

export interface Request {
  namespace?: string;
  name: string;
}

export interface Result {
  /** Reconcile this object again after this many milliseconds (resets the backoff). */
  requeueAfterMs?: number;
  /** Reconcile again soon, with backoff, without counting as an error. */
  requeue?: boolean;
}

export interface Reconciler {
  // Transitional: the legacy Result shape is being replaced by ReconcileResult (./result.ts) controller by controller.
  reconcile(request: Request): Promise<ReconcileResult | Result | void>;
}

export const requestKey = (r: Request): string => (r.namespace ? `${r.namespace}/${r.name}` : r.name);

export function parseRequestKey(key: string): Request {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
