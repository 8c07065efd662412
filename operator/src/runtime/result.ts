// What a reconcile (or one step of a state machine) decided, as explicit variants in the manner of controller-runtime's
// Result: nothing more to do, come back after a delay, come back soon with backoff (not an error), or continue at once
// after the status written so far is committed. An error is thrown, and is retried with per-item backoff.

export type ReconcileResult =
  | { readonly kind: 'done' }
  | { readonly kind: 'requeueAfter'; readonly ms: number }
  | { readonly kind: 'requeueWithBackoff' }
  | { readonly kind: 'commitThenContinue' };

export const done = (): ReconcileResult => DONE;
export const requeueAfter = (ms: number): ReconcileResult => ({ kind: 'requeueAfter', ms: Math.max(1, Math.ceil(ms)) });
export const requeueWithBackoff = (): ReconcileResult => BACKOFF;
/** Commit the status as it stands (e.g. "Creating" before a slow call), then reconcile again at once. */
export const commitThenContinue = (): ReconcileResult => CONTINUE;

const DONE: ReconcileResult = Object.freeze({ kind: 'done' });
const BACKOFF: ReconcileResult = Object.freeze({ kind: 'requeueWithBackoff' });
const CONTINUE: ReconcileResult = Object.freeze({ kind: 'commitThenContinue' });

/** The sooner of two results, e.g. a state machine's and a side controller's. */
export function sooner(a: ReconcileResult, b: ReconcileResult): ReconcileResult {
  const rank = (r: ReconcileResult): number => (r.kind === 'commitThenContinue' ? 0 : r.kind === 'requeueWithBackoff' ? 1 : r.kind === 'requeueAfter' ? 2 : 3);
  if (rank(a) !== rank(b)) return rank(a) < rank(b) ? a : b;
  return a.kind === 'requeueAfter' && b.kind === 'requeueAfter' && b.ms < a.ms ? b : a;
}
