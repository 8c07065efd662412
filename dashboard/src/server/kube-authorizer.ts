// The Authorizer on the Kubernetes API: TokenReview (authentication.k8s.io/v1) for who a token is, and
// SubjectAccessReview (authorization.k8s.io/v1) for whether that user may list BareMetalHosts (or templates) in a namespace.
// Answers are cached briefly (by a hash of the token, never the token itself), so a page and its event stream cost
// the API server a few reviews a minute, and a revoked token or RBAC change takes effect within the TTL.
import { createHash } from 'node:crypto';
import type { KubeClient, KubeObject, ResourceType } from '@anvil/core/kube';
import { AuthorizerUnavailableError, type Authorizer, type ListedResource, type UserInfo } from './ports.js';

const TOKEN_REVIEW: ResourceType = { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview', plural: 'tokenreviews', namespaced: false };
const SUBJECT_ACCESS_REVIEW: ResourceType = { group: 'authorization.k8s.io', version: 'v1', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', namespaced: false };

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

/** A map whose entries expire; cleared whole when it grows past maxEntries (a flood of random tokens). */
class TtlCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; expires: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    const value = load();
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
    // A failed review (API server unreachable) is not remembered.
    value.catch(() => this.entries.delete(key));
    return value;
  }
}

export interface KubeAuthorizerOptions {
  /** How long a review's answer is reused (default 10 s). */
  cacheTtlMs?: number;
  now?: () => number;
}

export class KubeAuthorizer implements Authorizer {
  private readonly tokens: TtlCache<UserInfo | undefined>;
  private readonly access: TtlCache<boolean>;

  constructor(
    private readonly client: KubeClient,
    options: KubeAuthorizerOptions = {},
  ) {
    this.tokens = new TtlCache(options.cacheTtlMs ?? 10_000, 10_000, options.now);
    this.access = new TtlCache(options.cacheTtlMs ?? 10_000, 10_000, options.now);
  }

  authenticate(token: string): Promise<UserInfo | undefined> {
    const key = createHash('sha256').update(token).digest('hex');
    return this.tokens.get(key, async () => {
      const review = await this.create<TokenReviewStatus>(TOKEN_REVIEW, { spec: { token } }, 'TokenReview');
      const user = review.authenticated ? review.user : undefined;
      if (!user?.username) return undefined;
      return { username: user.username, groups: user.groups ?? [], ...(user.uid ? { uid: user.uid } : {}), ...(user.extra ? { extra: user.extra } : {}) };
    });
  }

  mayListHosts(user: UserInfo, namespace: string | undefined): Promise<boolean> {
    return this.mayList(user, 'baremetalhosts', namespace);
  }

  mayList(user: UserInfo, resource: ListedResource, namespace: string | undefined): Promise<boolean> {
    return this.review(user, { verb: 'list', group: 'anvil.dev', resource, ...(namespace ? { namespace } : {}) });
  }

  mayPatchHost(user: UserInfo, namespace: string, name: string): Promise<boolean> {
    return this.review(user, { verb: 'patch', group: 'anvil.dev', resource: 'baremetalhosts', namespace, name });
  }

  mayGetSecrets(user: UserInfo, namespace: string): Promise<boolean> {
    return this.review(user, { verb: 'get', group: '', resource: 'secrets', namespace });
  }

  mayListEvents(user: UserInfo, namespace: string): Promise<boolean> {
    return this.review(user, { verb: 'list', group: 'events.k8s.io', resource: 'events', namespace });
  }

  private review(user: UserInfo, resourceAttributes: Record<string, string>): Promise<boolean> {
    const key = JSON.stringify([user.username, user.uid ?? '', [...user.groups].sort(), user.extra ?? {}, resourceAttributes]);
    return this.access.get(key, async () => {
      const spec = {
        user: user.username,
        groups: user.groups,
        ...(user.uid ? { uid: user.uid } : {}),
        ...(user.extra ? { extra: user.extra } : {}),
        resourceAttributes,
      };
      const review = await this.create<{ allowed?: boolean }>(SUBJECT_ACCESS_REVIEW, { spec }, 'SubjectAccessReview');
      return review.allowed === true;
    });
  }

  private async create<S>(type: ResourceType, body: { spec: unknown }, what: string): Promise<S> {
    try {
      const created = await this.client.create<KubeObject<unknown, S>>(type, { apiVersion: `${type.group}/${type.version}`, kind: type.kind, metadata: {}, ...body });
      return created.status ?? ({} as S);
    } catch (err) {
      // The operator's own RBAC (create tokenreviews, subjectaccessreviews) or the API server: the user cannot fix it.
      throw new AuthorizerUnavailableError(`the dashboard could not ask the Kubernetes API server (${what}): ${(err as Error).message}`);
    }
  }
}
