// The host's events route: only with RBAC to list events in the namespace, and only this host's (by uid).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HostEventView } from './ports.js';
import { FakeAuthorizer, FakeHostSource, fakeHost } from './testing/fakes.js';
import { serveRouter } from './testing/serve-router.js';

describe('GET /api/hosts/:namespace/:name/events', () => {
  const host = fakeHost('lab', 'node-01');
  host.metadata.uid = 'uid-node-01';
  const hosts = new FakeHostSource([host]);
  const authorizer = new FakeAuthorizer({ 'ops-token': { username: 'ops', groups: [] }, 'viewer-token': { username: 'viewer', groups: [] } }, { ops: ['lab'], viewer: ['lab'] });
  authorizer.eventRbac = { ops: ['lab'] };
  const asked: string[] = [];
  const event: HostEventView = { time: '2026-12-07T12:00:00Z', type: 'Normal', reason: 'StateChanged', action: 'Reconcile', note: 'Provisioning', count: 2, reportingController: 'anvil.dev/operator' };
  let served: Awaited<ReturnType<typeof serveRouter>>;
  let base: string;

  beforeAll(async () => {
    const events = { hostEvents: async (namespace: string, uid: string) => (asked.push(`${namespace}/${uid}`), [event]) };
    served = await serveRouter({ hosts, authorizer, events });
    base = served.base;
  });
  afterAll(() => served.close());

  const get = async (token: string) => {
    const res = await fetch(`${base}/api/hosts/lab/node-01/events`, { headers: { Authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  it("answers the host's events (asked by its uid) to who may list events there, 403 to others", async () => {
    expect(await get('ops-token')).toEqual({ status: 200, body: { items: [event] } });
    expect(asked).toEqual(['lab/uid-node-01']);
    expect(await get('viewer-token')).toEqual({ status: 403, body: { error: 'Forbidden', message: expect.stringContaining('viewer may not list events.events.k8s.io in namespace lab') } });
  });
});
