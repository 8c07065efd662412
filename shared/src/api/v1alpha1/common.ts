// Constants, object metadata and small schema pieces shared by the anvil.dev/v1alpha1 kinds.
import * as s from '../schema.js';

export const GROUP = 'anvil.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;
export const CATEGORIES = ['anvil'] as const;

/** Annotation that stops reconciliation of an object (any value) without losing its state; remove it to resume. */
export const PAUSED_ANNOTATION = 'anvil.dev/paused';
/** Set to "true" on a BareMetalHost the boot-server created for a machine nobody declared (--discovery=create). */
/** A dotted-quad IPv4 address. */
export const IPV4_PATTERN = '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$';
export const DISCOVERED_LABEL = 'anvil.dev/discovered';

// One object model: the API types use the Kubernetes port's object metadata (shared/src/kube/types.ts).
export type { ObjectMeta, OwnerReference } from '../../kube/types.js';

export type ListMeta = { resourceVersion?: string; continue?: string; remainingItemCount?: number };

/** A list of custom objects as the API server returns it. */
export type KubeList<T> = { apiVersion: string; kind: string; metadata: ListMeta; items: T[] };

// Patterns are written so that Go's RE2 (the API server) and ECMAScript (ajv, the operator) read them alike.

/** Six colon-separated octets, either case: `52:54:00:AB:cd:01`. */
export const MAC_ADDRESS_PATTERN = '^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$';
/** RFC 1123 label: lower case alphanumerics and '-', starting and ending alphanumeric (max 63). */
export const DNS1123_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** RFC 1123 subdomain: the rule for most Kubernetes object names (max 253). */
export const DNS1123_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** A key in a Secret's data. */
export const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';
/** An http or https URL. */
export const HTTP_URL_PATTERN = '^https?://[^\\s]+$';
/** 64 hexadecimal digits; compared case-insensitively. */
export const SHA256_PATTERN = '^[0-9A-Fa-f]{64}$';
/** A template variable name: a nunjucks/JavaScript identifier. */
export const VARIABLE_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

export function objectName(description: string): s.Schema<string> {
  return s.string(description, { pattern: DNS1123_SUBDOMAIN_PATTERN, minLength: 1, maxLength: 253 });
}

/** `{name}` of an object of some kind in the object's own namespace. */
export function localObjectReference(description: string, nameDescription: string) {
  return s.object(description, { name: objectName(nameDescription) }, { required: ['name'] });
}

/** `{name, key}` of a value in a Secret in the object's own namespace; `key` defaults to `defaultKey`. */
export function secretKeySelector(description: string, defaultKey: string) {
  return s.object(
    description,
    {
      name: objectName('Name of the Secret, in the same namespace as this object.'),
      key: s.string(`Key in the Secret's data that holds the value. Defaults to ${defaultKey}.`, {
        pattern: SECRET_KEY_PATTERN,
        maxLength: 253,
        default: defaultKey,
      }),
    },
    { required: ['name'] },
  );
}

export function observedGeneration() {
  return s.integer('The .metadata.generation that the controller last acted upon; equal to .metadata.generation when status is up to date.', {
    minimum: 0,
    format: 'int64',
  });
}

export const API_VERSION_DESCRIPTION =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
export const KIND_DESCRIPTION =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
