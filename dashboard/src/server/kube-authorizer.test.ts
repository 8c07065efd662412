// KubeAuthorizer against a recording KubeClient: what it asks the API server, how long it trusts the answers, and
// that a failure to ask is reported as such (503), never as a "no".
import { describe, expect, it } from '@jest/globals';
import type { KubeClient, KubeObject, ResourceType } from '@anvil/core/kube';
import { KubeAuthorizer } from './kube-authorizer.js';
import { AuthorizerUnavailableError } from './ports.js';

function recordingClient(answer: (type: ResourceType, body: KubeObject) => unknown) {
  const sent: { plural: string; body: KubeObject }[] = [];
  const client = {
    create: async (type: ResourceType, body: KubeObject) => {
      sent.push({ plural: type.plural, body });
      return { ...body, status: answer(type, body) };
    },
  } as Pick<KubeClient, 'create'> as KubeClient;
  return { client, sent };
}

describe('KubeAuthorizer', () => {
  it('asks TokenReview who a token is and SubjectAccessReview whether the user may list hosts, caching both briefly', async () => {
    let now = 1_000;
    const { client, sent } = recordingClient((type, body) =>
      type.plural === 'tokenreviews'
        ? (body.spec as { token: string }).token === 'good'
          ? { authenticated: true, user: { username: 'alice', uid: 'u1', groups: ['devs'] } }
          : { authenticated: false, error: 'invalid bearer token' }
        : { allowed: (body.spec as { resourceAttributes: { namespace?: string } }).resourceAttributes.namespace === 'lab' },
    );
    const authz = new KubeAuthorizer(client, { cacheTtlMs: 10_000, now: () => now });
    const alice = await authz.authenticate('good');
    expect(alice).toEqual({ username: 'alice', uid: 'u1', groups: ['devs'] });
    expect(await authz.authenticate('bad')).toBeUndefined();
    expect(await authz.mayListHosts(alice!, 'lab')).toBe(true);
    expect(await authz.mayListHosts(alice!, undefined)).toBe(false);
    expect(sent[0]).toEqual({ plural: 'tokenreviews', body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token: 'good' } } });
    expect(sent[2]!.body.spec).toEqual({ user: 'alice', uid: 'u1', groups: ['devs'], resourceAttributes: { verb: 'list', group: 'anvil.dev', resource: 'baremetalhosts', namespace: 'lab' } });
    expect(sent[3]!.body.spec).toEqual({ user: 'alice', uid: 'u1', groups: ['devs'], resourceAttributes: { verb: 'list', group: 'anvil.dev', resource: 'baremetalhosts' } });

    // Within the TTL: no new review. After it: asked again.
    await authz.authenticate('good');
    await authz.mayListHosts(alice!, 'lab');
    expect(sent).toHaveLength(4);
    now += 10_001;
    await authz.authenticate('good');
    await authz.mayListHosts(alice!, 'lab');
    expect(sent).toHaveLength(6);
  });

  it('asks about each listed kind separately and caches the answers per kind', async () => {
    const { client, sent } = recordingClient((type, body) =>
      type.plural === 'tokenreviews' ? { authenticated: true, user: { username: 'carol', groups: [] } } : { allowed: (body.spec as { resourceAttributes: { resource: string } }).resourceAttributes.resource === 'proxmoxtemplates' },
    );
    const authz = new KubeAuthorizer(client);
    const carol = (await authz.authenticate('t'))!;
    expect(await authz.mayList(carol, 'proxmoxtemplates', 'lab')).toBe(true);
    expect(await authz.mayList(carol, 'autoinstalltemplates', 'lab')).toBe(false);
    expect(await authz.mayListHosts(carol, 'lab')).toBe(false);
    expect(sent.slice(1).map((s) => (s.body.spec as { resourceAttributes: unknown }).resourceAttributes)).toEqual([
      { verb: 'list', group: 'anvil.dev', resource: 'proxmoxtemplates', namespace: 'lab' },
      { verb: 'list', group: 'anvil.dev', resource: 'autoinstalltemplates', namespace: 'lab' },
      { verb: 'list', group: 'anvil.dev', resource: 'baremetalhosts', namespace: 'lab' },
    ]);
  });

  it('reports an API server it cannot ask as unavailable, and does not remember the failure', async () => {
    let fail = true;
    const client = {
      create: async (_type: ResourceType, body: KubeObject) => {
        if (fail) throw new Error('tokenreviews.authentication.k8s.io is forbidden: User "system:serviceaccount:anvil:anvil-operator" cannot create resource');
        return { ...body, status: { authenticated: true, user: { username: 'bob', groups: [] } } };
      },
    } as Pick<KubeClient, 'create'> as KubeClient;
    const authz = new KubeAuthorizer(client);
    await expect(authz.authenticate('t')).rejects.toThrow(AuthorizerUnavailableError);
    await expect(authz.authenticate('t')).rejects.toThrow(/could not ask the Kubernetes API server \(TokenReview\): .*forbidden/);
    fail = false;
    await expect(authz.authenticate('t')).resolves.toEqual({ username: 'bob', groups: [] });
  });
});
