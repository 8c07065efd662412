// Whether a sink's error will happen again on every retry of the same record (quarantine it) or may pass (wait and
// retry). Only errors positively known to be about the record count as permanent: an unknown error is an outage
// until proven otherwise, so a database or API server that is away never gets records quarantined.
import { ApiError } from '@anvil/core/kube';
import { HistoryQueryError } from '@anvil/core/db';

/** SQLSTATE classes about the data or the statement, not the server: data exception (bad text, bad time), integrity. */
const PERMANENT_SQLSTATE_CLASSES = ['22', '23'];

function sqlState(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export function isPermanentSinkError(err: unknown): boolean {
  if (err instanceof HistoryQueryError) return true;
  if (err instanceof ApiError) return err.code === 400 || err.code === 422;
  // A TypeError or RangeError from a sink's own code is a bug a record triggers (e.g. an impossible date); it does the
  // same on every retry. Network failures of fetch() also surface as TypeError ("fetch failed") but carry a cause; the
  // Kubernetes client's (undici's dispatcher) are errors with a code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT).
  if ((err instanceof RangeError || err instanceof TypeError) && !(err as { cause?: unknown }).cause) return true;
  const state = sqlState(err);
  return state !== undefined && PERMANENT_SQLSTATE_CLASSES.includes(state.slice(0, 2));
}
