// The Kubernetes port: what anvil's domain and runtime need from an API server, with no client library types.
// The one object model: every object, from the anvil.dev API types to the client wrapper, is a KubeObject (with
// ObjectMeta as it appears in JSON); rest-client.ts is the only place that touches a client library.

/** Object metadata as it appears in JSON (timestamps are RFC 3339 strings). */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  /** Server-side apply bookkeeping; informers drop it on the way into their cache. */
  managedFields?: unknown[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/**
 * Any object the API server stores. Spec and Status type the two halves of a kind that has them (a Secret has
 * neither, hence the index signature for its other top-level fields).
 */
export interface KubeObject<Spec = unknown, Status = unknown> {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: Status;
  [key: string]: unknown;
}

/** A custom resource of one of anvil's kinds: its apiVersion and kind fixed, a spec always present. */
export interface CustomObject<Kind extends string, Spec, Status> extends KubeObject<Spec, Status> {
  apiVersion: string;
  kind: Kind;
  spec: Spec;
}

export type SpecOf<T extends KubeObject> = NonNullable<T['spec']>;
export type StatusOf<T extends KubeObject> = NonNullable<T['status']>;

/** Identifies a REST resource: enough to build its URL paths. */
export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export interface ObjectKey {
  namespace?: string;
  name: string;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  /** Only metadata (PartialObjectMetadata): labels, annotations, resourceVersion... never data or spec. */
  metadataOnly?: boolean;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion: string;
  allowWatchBookmarks?: boolean;
  /** Server-side timeout; the server ends the watch cleanly after this many seconds. */
  timeoutSeconds?: number;
  /** Only metadata (PartialObjectMetadata), as for ListOptions. */
  metadataOnly?: boolean;
}

export interface WatchHandle {
  /** Resolves when the stream ends: undefined on a clean end, the error otherwise. */
  readonly done: Promise<Error | undefined>;
  stop(): void;
}

export interface PatchOptions {
  subresource?: 'status';
  fieldManager?: string;
  force?: boolean;
  dryRun?: boolean;
}

export type PatchType = 'merge' | 'json' | 'apply';

export interface KubeClient {
  get<T extends KubeObject>(type: ResourceType, key: ObjectKey): Promise<T | undefined>;
  list<T extends KubeObject>(type: ResourceType, options?: ListOptions): Promise<ListResult<T>>;
  watch<T extends KubeObject>(type: ResourceType, options: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchHandle;
  create<T extends KubeObject>(type: ResourceType, object: T, options?: { dryRun?: boolean }): Promise<T>;
  replace<T extends KubeObject>(type: ResourceType, object: T, options?: { subresource?: 'status' }): Promise<T>;
  patch<T extends KubeObject>(type: ResourceType, key: ObjectKey, patchType: PatchType, body: unknown, options?: PatchOptions): Promise<T>;
  delete(type: ResourceType, key: ObjectKey, options?: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; uid?: string }): Promise<void>;
}
