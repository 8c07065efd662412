// One keep-alive connection pool per kubeconfig instead of one per request.
//
// client-node 2.x builds a new undici Agent inside every applySecurityAuthentication() call, so each API request
// opened its own TCP + TLS connection: measured, that was about 45% of the operator's CPU at 1,000 hosts and most of
// the webhook-to-status latency (docs/benchmarks.md). Here the agent is built once and reused for as long as the TLS
// settings it was built from stay the same; when they change (a rotated client certificate or CA, read again from
// the kubeconfig's files), a new agent is built and the old one is closed once its in-flight requests finish.
import { createHash, type Hash } from 'node:crypto';
import type { AgentOptions } from 'node:https';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';

type CreateDispatcher = (cluster: Cluster | null, agentOptions: AgentOptions) => Dispatcher | undefined;
const POOLED = Symbol('anvil.pooledDispatcher');

interface KubeConfigInternals {
  createDispatcher?: CreateDispatcher;
  [POOLED]?: PoolState;
}

/** client-node's private dispatcher hook, and our pool state kept on the same object (all optional: may be absent). */
const internalsOf = (kc: KubeConfig): KubeConfigInternals => kc as object as KubeConfigInternals;

interface PoolState {
  key?: string;
  dispatcher?: Dispatcher | undefined;
  built: number;
}

/**
 * Makes `kc` hand out one shared dispatcher per distinct TLS setting. Returns false when this client-node version has
 * no such hook (requests then still work, one connection each). Idempotent.
 */
export function poolConnections(kc: KubeConfig): boolean {
  const internals = internalsOf(kc);
  if (internals[POOLED]) return true;
  const original = internals.createDispatcher;
  if (typeof original !== 'function') return false;
  const build = original.bind(kc);
  const state: PoolState = { built: 0 };
  internals[POOLED] = state;
  internals.createDispatcher = (cluster, agentOptions) => {
    const key = fingerprint(kc.createDispatcherOptions(cluster, agentOptions));
    if (state.key === key) return state.dispatcher;
    const previous = state.dispatcher;
    state.key = key;
    state.dispatcher = build(cluster, agentOptions);
    state.built += 1;
    // close() lets requests already on the old agent (watches included) finish; new ones use the new agent.
    previous?.close().catch(() => undefined);
    return state.dispatcher;
  };
  return true;
}

/** How many dispatchers this kubeconfig has built since pooling started (for tests). */
export function dispatchersBuilt(kc: KubeConfig): number {
  return internalsOf(kc)[POOLED]?.built ?? 0;
}

/** A digest of the dispatcher options (CA, client certificate and key, proxy, ...), never the secrets themselves. */
function fingerprint(value: unknown): string {
  const hash = createHash('sha256');
  feed(hash, value);
  return hash.digest('hex');
}

function feed(hash: Hash, value: unknown): void {
  if (value === undefined || value === null) hash.update(value === null ? 'n;' : 'u;');
  else if (Buffer.isBuffer(value) || value instanceof Uint8Array) hash.update(`b${value.length}:`).update(value);
  else if (typeof value === 'string') hash.update(`s${value.length}:`).update(value);
  else if (typeof value === 'number' || typeof value === 'boolean') hash.update(`${typeof value}:${String(value)};`);
  else if (Array.isArray(value)) {
    hash.update(`a${value.length}[`);
    for (const item of value) feed(hash, item);
    hash.update(']');
  } else if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    hash.update(`o${entries.length}{`);
    for (const [k, v] of entries) {
      hash.update(`${k}=`);
      feed(hash, v);
    }
    hash.update('}');
  } else hash.update(`${typeof value};`);
}
