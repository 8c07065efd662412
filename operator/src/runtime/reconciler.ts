// The reconcile contract, as controller-runtime's: level-based and idempotent; return requeueAfter to be called
// again later, throw to be retried with per-item exponential backoff.

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
  reconcile(request: Request): Promise<Result | void>;
}

export const requestKey = (r: Request): string => (r.namespace ? `${r.namespace}/${r.name}` : r.name);

export function parseRequestKey(key: string): Request {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
