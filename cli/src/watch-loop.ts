// Watches BareMetalHosts until told to stop, as kubectl's -w does: a watch the server ends (its timeout) is resumed
// from the last resourceVersion seen, an expired one (410 Gone) is replaced by a fresh list, a lost connection is
// retried a few times with backoff before giving up.
import { ApiError, isGone, type WatchEvent } from '@anvil/core/kube';
import type { Cluster } from './context.js';
import { ClusterError, RequestError } from './errors.js';
import { BareMetalHostResource } from './resources.js';
import { sleep } from './sleep.js';
import type { Host } from './table.js';

/** Consecutive failed reconnections before giving up. */
const MAX_RETRIES = 5;

export interface HostWatch {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion: string;
  onEvent(event: WatchEvent<Host>): void;
  /** After a 410 Gone: list again, hand over the objects, return the list's resourceVersion. */
  relist(): Promise<string>;
  /** Checked after each event batch: true ends the loop. */
  done?(): boolean;
}

/** Runs until the signal fires or `done()` says so; throws when the cluster is lost for good. */
export async function watchHosts(cluster: Cluster, signal: AbortSignal, w: HostWatch): Promise<void> {
  let resourceVersion = w.resourceVersion;
  let failures = 0;
  let finish: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => {
    finish = resolve;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  while (!signal.aborted && !w.done?.()) {
    const handle = cluster.client.watch<Host>(
      BareMetalHostResource,
      {
        resourceVersion,
        ...(w.namespace ? { namespace: w.namespace } : {}),
        ...(w.labelSelector ? { labelSelector: w.labelSelector } : {}),
        ...(w.fieldSelector ? { fieldSelector: w.fieldSelector } : {}),
      },
      (event) => {
        failures = 0;
        resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion;
        if (event.type === 'BOOKMARK') return;
        w.onEvent(event);
        if (w.done?.()) finish?.();
      },
    );
    const outcome = await Promise.race([handle.done, stopped.then(() => 'stopped' as const)]);
    if (outcome === 'stopped') {
      handle.stop();
      break;
    }
    if (outcome === undefined) continue; // the server ended the watch (its timeout): resume where it was
    if (isGone(outcome)) {
      resourceVersion = await w.relist();
      continue;
    }
    if (outcome instanceof ClusterError && ++failures <= MAX_RETRIES) {
      await sleep(1000 * 2 ** (failures - 1), signal);
      continue;
    }
    throw outcome instanceof ApiError || outcome instanceof ClusterError ? outcome : new RequestError(`the watch failed: ${outcome.message}`);
  }
}
