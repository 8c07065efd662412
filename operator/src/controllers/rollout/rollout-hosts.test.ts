import type { BareMetalHost } from '@anvil/core/api';
import { alreadyAsked } from './install-action.js';
import { followers, hostView } from './host-views.js';

const host = (name: string, spec: Partial<BareMetalHost['spec']>, status: BareMetalHost['status'] = {}, labels?: Record<string, string>): BareMetalHost =>
  ({ apiVersion: 'anvil.dev/v1alpha1', kind: 'BareMetalHost', metadata: { name, namespace: 'ns', ...(labels ? { labels } : {}) }, spec: { bootMACAddress: '52:54:00:00:00:01', ...spec }, status }) as BareMetalHost;

const installed = (hash: string, revision: number, state = 'Provisioned') => ({
  state,
  provisionedRevision: revision,
  currentInstall: { attempt: 1, revision, installationId: `i-${revision}`, startedAt: '2026-01-01T00:00:00Z', template: { name: 't', contentHash: hash } },
}) as BareMetalHost['status'];

describe('which hosts a rollout asks, and what it sees of them', () => {
  it('asks a host once per revision, and again only after that install failed', () => {
    expect(alreadyAsked(host('a', { templateRef: { name: 't' } }, installed('h1', 1)), 2)).toBe(false);
    // pinned and bumped, the attempt not started yet
    expect(alreadyAsked(host('a', { templateRef: { name: 't', revision: 2 }, provisioning: { revision: 2 } }, installed('h1', 1)), 2)).toBe(true);
    // the attempt started (its template not yet published) or done
    expect(alreadyAsked(host('a', { templateRef: { name: 't', revision: 2 }, provisioning: { revision: 2 } }, { ...installed('h1', 1), state: 'Provisioning', currentInstall: { attempt: 2, revision: 2, startedAt: '2026-01-01T00:00:00Z' } }), 2)).toBe(true);
    expect(alreadyAsked(host('a', { templateRef: { name: 't', revision: 2 }, provisioning: { revision: 2 } }, installed('h2', 2)), 2)).toBe(true);
    // its install of that revision failed: a rollback may ask again
    expect(alreadyAsked(host('a', { templateRef: { name: 't', revision: 2 }, provisioning: { revision: 2 } }, installed('h2', 2, 'Failed')), 2)).toBe(false);
    // pinned to another revision
    expect(alreadyAsked(host('a', { templateRef: { name: 't', revision: 3 }, provisioning: { revision: 2 } }, installed('h2', 2)), 2)).toBe(false);
  });

  it('follows the hosts of the template that match its selector, by name, never Discovered ones', () => {
    const template = { metadata: { name: 't', namespace: 'ns' }, spec: { rollout: { hostSelector: { rack: 'r1' } } } } as never;
    const hosts = [
      host('b', { templateRef: { name: 't' } }, {}, { rack: 'r1' }),
      host('a', { templateRef: { name: 't' } }, {}, { rack: 'r1' }),
      host('c', { templateRef: { name: 't' } }, {}, { rack: 'r2' }),
      host('d', { templateRef: { name: 'other' } }, {}, { rack: 'r1' }),
      host('e', { templateRef: { name: 't' } }, {}, { rack: 'r1', 'anvil.dev/discovered': 'true' }),
    ];
    expect(followers(template, hosts).map((h) => h.metadata.name)).toEqual(['a', 'b']);
  });

  it('sees an installed host as healthy without checks, and pending until its checks pass with them', () => {
    const h = host('a', { templateRef: { name: 't' } }, installed('h2', 2));
    expect(hostView(h, [], false)).toEqual({ key: 'a', revision: 'h2', install: 'installed', health: 'passed', installStartedAt: '2026-01-01T00:00:00Z' });
    expect(hostView(h, [], true).health).toBe('pending');
    const entry = { host: 'a', installationId: 'i-2', verdict: 'failed' as const, since: '2026-01-01T00:10:00Z', failures: 3, message: 'tcp/22: ECONNREFUSED' };
    expect(hostView(h, [entry], true).health).toBe('failed');
    // an entry of an earlier install does not count
    expect(hostView(h, [{ ...entry, installationId: 'i-1' }], true).health).toBe('pending');
    expect(hostView(host('a', { templateRef: { name: 't' } }, installed('h2', 2, 'Failed')), [], false).install).toBe('failed');
  });
});
