// Finalizer add/remove as merge patches guarded by resourceVersion: a concurrent writer causes a 409 and a
// retry on the fresh object, never a lost finalizer of someone else's.
import { isConflict, isNotFound, type KubeClient, type KubeObject, type ResourceType } from '@anvil/core/kube';

async function updateFinalizers<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  obj: T,
  change: (finalizers: string[]) => string[] | undefined,
): Promise<T> {
  const key = { namespace: obj.metadata.namespace, name: obj.metadata.name ?? '' };
  let current: T | undefined = obj;
  for (let attempt = 1; ; attempt++) {
    if (!current) throw new Error(`${type.kind} ${key.namespace}/${key.name} not found`);
    const next = change([...(current.metadata.finalizers ?? [])]);
    if (!next) return current;
    try {
      return await client.patch<T>(type, key, 'merge', {
        metadata: { finalizers: next, resourceVersion: current.metadata.resourceVersion },
      });
    } catch (err) {
      if (!isConflict(err) || attempt >= 10) throw err;
      current = await client.get<T>(type, key);
    }
  }
}

export const hasFinalizer = (obj: KubeObject, name: string): boolean => obj.metadata.finalizers?.includes(name) ?? false;

export function addFinalizer<T extends KubeObject>(client: KubeClient, type: ResourceType, obj: T, name: string): Promise<T> {
  return updateFinalizers(client, type, obj, (f) => (f.includes(name) ? undefined : [...f, name]));
}

/** Removes the finalizer; an object already gone counts as done. */
export async function removeFinalizer<T extends KubeObject>(client: KubeClient, type: ResourceType, obj: T, name: string): Promise<T | undefined> {
  try {
    return await updateFinalizers(client, type, obj, (f) => (f.includes(name) ? f.filter((x) => x !== name) : undefined));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
