// The reconcile contract, as controller-runtime's: level-based and idempotent; return a ReconcileResult (requeueAfter
// to be called again later, and so on), throw to be retried with per-item exponential backoff.

import type { ReconcileResult } from './result.js';

export interface Request {
  namespace?: string;
  name: string;
}

export interface Reconciler {
  /** What to do next (see ./result.ts); nothing returned means done. */
  reconcile(request: Request): Promise<ReconcileResult | void>;
}

export const requestKey = (r: Request): string => (r.namespace ? `${r.namespace}/${r.name}` : r.name);

export function parseRequestKey(key: string): Request {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
