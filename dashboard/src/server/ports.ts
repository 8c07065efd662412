// What the dashboard needs from the rest of anvil, as ports: the hosts (the operator's informer cache), the install
// history (the history store, when the operator has a database) and who may see what (Kubernetes authn/authz).
// Real adapters: informer-host-source.ts and kube-authorizer.ts; fakes for unit tests in testing/fakes.ts.
import type { AutoinstallTemplate, BareMetalHost, ProxmoxTemplate } from '@anvil/core/api';
import type { BootConfig } from '@anvil/core/bootconfig';
import type { HistoryStore } from '@anvil/core/db';

export type HostChangeType = 'added' | 'changed' | 'removed';

export interface HostChange {
  type: HostChangeType;
  host: BareMetalHost;
}

/** The BareMetalHosts the operator caches: read from memory, changes pushed as the informers see them. */
export interface HostSource {
  list(): BareMetalHost[];
  get(namespace: string, name: string): BareMetalHost | undefined;
  /** Calls the listener on every add, change and removal; returns the function that stops it. */
  watch(listener: (change: HostChange) => void): () => void;
}

/** The AutoinstallTemplates and ProxmoxTemplates the operator caches (its informers for both kinds), read from memory. */
export interface TemplateSource {
  listAutoinstallTemplates(): AutoinstallTemplate[];
  listProxmoxTemplates(): ProxmoxTemplate[];
}

/** The reads of the install history the views need. */
export type HistoryReader = Pick<
  HistoryStore,
  'getInstallation' | 'listInstallations' | 'listInstallerEvents' | 'listFailures' | 'listBootRequests' | 'listDiscovered' | 'listTemplateBuilds'
>;

/** The kinds the dashboard lists, each checked with SubjectAccessReview for `list <resource>.anvil.dev`. */
export type ListedResource = 'baremetalhosts' | 'autoinstalltemplates' | 'proxmoxtemplates';

/** Who a bearer token belongs to, as TokenReview says. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface Authorizer {
  /** The token's user, or undefined when the API server does not accept the token. */
  authenticate(token: string): Promise<UserInfo | undefined>;
  /** May the user `list baremetalhosts.anvil.dev` in the namespace (undefined: in all namespaces)? */
  mayListHosts(user: UserInfo, namespace: string | undefined): Promise<boolean>;
  /** May the user `list <resource>.anvil.dev` in the namespace (undefined: in all namespaces)? */
  mayList(user: UserInfo, resource: ListedResource, namespace: string | undefined): Promise<boolean>;
  /** May the user `patch baremetalhosts.anvil.dev` of this name in the namespace (the dashboard's actions)? */
  mayPatchHost(user: UserInfo, namespace: string, name: string): Promise<boolean>;
  /** May the user `get secrets` in the namespace (the rendered files: the boot config is a Secret there)? */
  mayGetSecrets(user: UserInfo, namespace: string): Promise<boolean>;
  /** May the user `list events.events.k8s.io` in the namespace (the host's events)? */
  mayListEvents(user: UserInfo, namespace: string): Promise<boolean>;
}

export interface HostEventView {
  time: string;
  type: string;
  reason: string;
  action: string;
  note: string;
  count: number;
  reportingController: string;
}

/** The kept content of a template revision (its ControllerRevision's data). */
export interface TemplateRevisionReader {
  revisionData(namespace: string, controllerRevision: string): Promise<{ chain?: string[]; specs?: Record<string, Record<string, unknown>> } | undefined>;
}

/** The Kubernetes Events about an object, newest first. */
export interface HostEventReader {
  hostEvents(namespace: string, uid: string): Promise<HostEventView[]>;
}

/** The boot configs the operator published (its cache of the boot config Secrets). */
export interface BootConfigSource {
  bootConfigOf(namespace: string, hostName: string): BootConfig | undefined;
}

/** Writes the dashboard's actions to hosts (with the operator's credentials, after the user's own RBAC allowed it). */
export interface HostWriter {
  /** Applies a JSON patch to the host; throws HostWriteError when the API server refuses it. */
  patchHost(namespace: string, name: string, ops: readonly unknown[]): Promise<void>;
  /** Records what was done, as a Kubernetes Event on the host; never throws. */
  recordAction?(host: { namespace: string; name: string; uid?: string }, action: string, note: string): void;
}

/** The API server refused a write: 404 (gone), 409 (changed meanwhile), or 503 (anything else, not the user's to fix). */
export class HostWriteError extends Error {
  constructor(
    readonly status: 404 | 409 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** A failure to ask the API server (not a "no"): answered 503 with its message. */
export class AuthorizerUnavailableError extends Error {}
