import type { KubeObject, OwnerReference } from '@anvil/core/kube';

export function controllerReference(owner: KubeObject): OwnerReference {
  if (!owner.apiVersion || !owner.kind || !owner.metadata.name || !owner.metadata.uid) {
    throw new Error('an owner needs apiVersion, kind, name and uid');
  }
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** Sets `owner` as the controller of `obj`, replacing an earlier reference to the same owner. */
export function setControllerReference(obj: KubeObject, owner: KubeObject): void {
  const ref = controllerReference(owner);
  const others = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
  const foreign = others.find((r) => r.controller);
  if (foreign) throw new Error(`${obj.kind ?? 'object'} ${obj.metadata.name} is already controlled by ${foreign.kind} ${foreign.name}`);
  obj.metadata.ownerReferences = [...others, ref];
}

export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller);
}
