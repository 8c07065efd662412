// cluster-api's patch helper: snapshot an object, let the reconciler change it, then send only the difference —
// metadata/spec as one merge patch and status as another on the /status subresource — with optimistic locking.
// On a conflict the change is re-applied to the latest object (conditions merged by type) and retried.
import { setTimeout as sleep } from 'node:timers/promises';
import { isConflict, type KubeClient, type KubeObject, type ResourceType } from '@anvil/core/kube';
import { applyMergePatch, clone, createMergePatch } from '@anvil/core/json';
import { mergeConditionChanges, type Condition } from '@anvil/core/conditions';

export interface PatchOutcome<T> {
  object: T;
  /** Requests actually sent: 0 when nothing changed. */
  writes: number;
  conflicts: number;
}

const MAX_ATTEMPTS = 8;

/** Any status; conditions in it are merged by type when a write is re-applied after a conflict. */
type Status = { conditions?: Condition[] };
type WithStatus = KubeObject<unknown, Status>;

function splitObject(obj: WithStatus): { main: Record<string, unknown>; status: Status | undefined } {
  const { status, ...rest } = obj;
  const { resourceVersion: _rv, managedFields: _mf, generation: _g, creationTimestamp: _ct, uid: _uid, ...meta } = rest.metadata;
  return { main: { ...rest, metadata: meta }, status };
}

export interface PatchHelperOptions {
  /**
   * On 409, re-apply our change to the latest object and retry (the default; right for writers whose changes do not
   * depend on what they read, e.g. conditions). When false the conflict is thrown, so a reconciler whose decisions
   * were made on a stale object runs again on fresh data instead of overwriting newer decisions.
   */
  rebaseOnConflict?: boolean;
}

export class PatchHelper<T extends WithStatus> {
  private readonly before: T;
  private readonly rebase: boolean;

  constructor(
    private readonly client: KubeClient,
    private readonly type: ResourceType,
    original: T,
    options: PatchHelperOptions = {},
  ) {
    this.before = clone(original);
    this.rebase = options.rebaseOnConflict ?? true;
  }

  /** Sends the changes made to `after` since the snapshot. */
  async patch(after: T): Promise<PatchOutcome<T>> {
    const key = { namespace: after.metadata.namespace, name: after.metadata.name ?? '' };
    const before = splitObject(this.before);
    const now = splitObject(after);
    let current: T = after;
    let writes = 0;
    let conflicts = 0;

    const mainPatch = createMergePatch(before.main, now.main) as Record<string, unknown> | undefined;
    let rv = this.before.metadata.resourceVersion;
    if (mainPatch) {
      for (let attempt = 1; ; attempt++) {
        try {
          const body = { ...mainPatch, metadata: { ...((mainPatch.metadata as object) ?? {}), resourceVersion: rv } };
          current = await this.client.patch<T>(this.type, key, 'merge', body);
          writes++;
          rv = current.metadata.resourceVersion;
          break;
        } catch (err) {
          if (!isConflict(err) || attempt >= MAX_ATTEMPTS || !this.rebase) throw err;
          conflicts++;
          const latest = await this.client.get<T>(this.type, key);
          if (!latest) throw err;
          rv = latest.metadata.resourceVersion;
          await sleep(backoff(attempt));
        }
      }
    }

    const statusPatch = createMergePatch(before.status ?? {}, now.status ?? {}) as Record<string, unknown> | undefined;
    if (statusPatch) {
      let body: Record<string, unknown> = statusPatch;
      for (let attempt = 1; ; attempt++) {
        try {
          current = await this.client.patch<T>(this.type, key, 'merge', { status: body, metadata: { resourceVersion: rv } }, { subresource: 'status' });
          writes++;
          break;
        } catch (err) {
          if (!isConflict(err) || attempt >= MAX_ATTEMPTS || !this.rebase) throw err;
          conflicts++;
          const latest = await this.client.get<T>(this.type, key);
          if (!latest) throw err;
          rv = latest.metadata.resourceVersion;
          body = rebaseStatusPatch(before.status, now.status, latest.status, statusPatch);
          await sleep(backoff(attempt));
        }
      }
    }
    return { object: current, writes, conflicts };
  }
}

/** Re-applies our status change onto the latest status: plain fields from our patch, conditions merged by type. */
function rebaseStatusPatch(
  before: WithStatus['status'],
  after: WithStatus['status'],
  latest: WithStatus['status'],
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const merged = applyMergePatch(clone(latest ?? {}), patch) as Record<string, unknown>;
  if ('conditions' in patch) {
    merged.conditions = mergeConditionChanges(before?.conditions, after?.conditions, latest?.conditions);
  }
  return (createMergePatch(latest ?? {}, merged) as Record<string, unknown> | undefined) ?? {};
}

const backoff = (attempt: number): number => Math.min(10 * 2 ** attempt, 500) * (0.5 + Math.random());
