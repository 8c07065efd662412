// Conditions with Kubernetes' metav1.Condition semantics: lastTransitionTime moves only when status flips,
// observedGeneration says which spec the condition describes.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
}

/** metav1.Time: RFC 3339 in whole seconds, as the API server stores it. */
export const kubeTime = (d: Date = new Date()): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** metav1.MicroTime: RFC 3339 with six fractional digits. */
export const microTime = (d: Date = new Date()): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** Returns a new list with the condition set; the transition time changes only when the status flips. */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  input: ConditionInput,
  observedGeneration: number | undefined,
  now: Date = new Date(),
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === input.type);
  const existing = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message ?? '',
    lastTransitionTime: existing && existing.status === input.status ? existing.lastTransitionTime : kubeTime(now),
  };
  if (observedGeneration !== undefined) next.observedGeneration = observedGeneration;
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/**
 * Merges condition changes made by one writer (before -> after) into the latest list from the server,
 * condition by condition, so a conflict retry keeps conditions other writers own.
 */
export function mergeConditionChanges(
  before: readonly Condition[] | undefined,
  after: readonly Condition[] | undefined,
  latest: readonly Condition[] | undefined,
): Condition[] {
  const result = [...(latest ?? [])];
  const beforeByType = new Map((before ?? []).map((c) => [c.type, c]));
  const afterByType = new Map((after ?? []).map((c) => [c.type, c]));
  for (const [type, cond] of afterByType) {
    if (JSON.stringify(beforeByType.get(type)) === JSON.stringify(cond)) continue;
    const i = result.findIndex((c) => c.type === type);
    if (i >= 0) result[i] = cond;
    else result.push(cond);
  }
  for (const type of beforeByType.keys()) {
    if (!afterByType.has(type)) {
      const i = result.findIndex((c) => c.type === type);
      if (i >= 0) result.splice(i, 1);
    }
  }
  return result;
}
