// The dashboard's actions: the patches they make (pure), and the route against fake ports: who may, what each host
// allows, refusals with their messages, and a write that lost a race.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AutoinstallTemplate, BareMetalHost } from '@anvil/core/api';
import { isRefusal, planAction, type ActionPlan } from './actions.js';
import { FakeAuthorizer, FakeHostSource, FakeHostWriter, FakeTemplateSource, fakeHost } from './testing/fakes.js';
import { serveRouter } from './testing/serve-router.js';

const NOW = new Date('2026-12-07T12:00:00.000Z');

function discovered(namespace: string, name: string): BareMetalHost {
  const h = fakeHost(namespace, name, { state: 'Discovered', labels: { 'anvil.dev/discovered': 'true' } });
  delete (h.spec as { templateRef?: unknown }).templateRef;
  delete (h.spec as { bmc?: unknown }).bmc;
  return h;
}

describe('planAction', () => {
  const plan = (host: BareMetalHost, action: 'reinstall' | 'reboot' | 'accept', body: Record<string, unknown> = {}, templates?: Set<string>) =>
    planAction(host, action, body, 'alice', NOW, templates);

  it('reinstall: the next revision, exact (a revision changed meanwhile fails the test op), and who did it', () => {
    const p = plan(fakeHost('lab', 'n1'), 'reinstall') as ActionPlan;
    expect(p.ops).toEqual([
      { op: 'test', path: '/spec/provisioning/revision', value: 2 },
      { op: 'replace', path: '/spec/provisioning/revision', value: 3 },
      { op: 'add', path: '/metadata/annotations', value: { 'anvil.dev/last-action': 'reinstall by alice at 2026-12-07T12:00:00.000Z' } },
    ]);
    expect(p.note).toBe('reinstall: spec.provisioning.revision 2 -> 3');
    const annotated = fakeHost('lab', 'n1');
    annotated.metadata.annotations = { other: 'x' };
    expect((plan(annotated, 'reinstall') as ActionPlan).ops.at(-1)).toEqual({ op: 'add', path: '/metadata/annotations/anvil.dev~1last-action', value: 'reinstall by alice at 2026-12-07T12:00:00.000Z' });
  });

  it('reboot: a new request id, Soft unless asked; refused without a BMC or with a bad mode', () => {
    expect((plan(fakeHost('lab', 'n1'), 'reboot') as ActionPlan).ops[0]).toEqual({ op: 'add', path: '/spec/reboot', value: { requestId: 'dashboard-2026-12-07T12:00:00.000Z', mode: 'Soft' } });
    expect((plan(fakeHost('lab', 'n1'), 'reboot', { mode: 'Hard' }) as ActionPlan).ops[0]).toMatchObject({ value: { mode: 'Hard' } });
    expect(plan(fakeHost('lab', 'n1'), 'reboot', { mode: 'Off' })).toEqual({ status: 400, message: 'mode must be Soft or Hard, got "Off"' });
    expect(plan(discovered('lab', 'd1'), 'reboot')).toEqual({ status: 409, message: 'lab/d1 has no spec.bmc: anvil cannot power it' });
  });

  it('accept: only a host without a template, only a template of its namespace', () => {
    expect((plan(discovered('lab', 'd1'), 'accept', { template: 'ubuntu' }, new Set(['ubuntu'])) as ActionPlan).ops[0]).toEqual({ op: 'add', path: '/spec/templateRef', value: { name: 'ubuntu' } });
    expect(plan(discovered('lab', 'd1'), 'accept', { template: 'debian' }, new Set(['ubuntu']))).toEqual({ status: 400, message: 'there is no AutoinstallTemplate debian in namespace lab' });
    expect(plan(discovered('lab', 'd1'), 'accept', { template: '../x' })).toMatchObject({ status: 400 });
    expect(plan(fakeHost('lab', 'n1'), 'accept', { template: 'ubuntu' })).toEqual({ status: 409, message: 'lab/n1 has a template already (ubuntu)' });
    expect(plan(discovered('lab', 'd1'), 'reinstall')).toEqual({ status: 409, message: 'lab/d1 has no template: accept it with one first' });
  });

  it('nothing on a host being deleted, or a reinstall that provisioning.allowed false would not start', () => {
    const deleting = fakeHost('lab', 'n1');
    deleting.metadata.deletionTimestamp = NOW.toISOString();
    expect(isRefusal(plan(deleting, 'reboot'))).toBe(true);
    const held = fakeHost('lab', 'n2');
    held.spec.provisioning = { ...held.spec.provisioning, allowed: false };
    expect(plan(held, 'reinstall')).toMatchObject({ status: 409, message: expect.stringContaining('allowed false') });
  });
});

describe('POST /api/hosts/:namespace/:name/actions/:action', () => {
  const hosts = new FakeHostSource([fakeHost('lab', 'node-01'), discovered('lab', 'discovered-525400123458'), fakeHost('other', 'x')]);
  const writer = new FakeHostWriter(hosts);
  const templates = new FakeTemplateSource([{ apiVersion: 'anvil.dev/v1alpha1', kind: 'AutoinstallTemplate', metadata: { namespace: 'lab', name: 'ubuntu-2404' }, spec: {} } as AutoinstallTemplate]);
  const authorizer = new FakeAuthorizer(
    { 'ops-token': { username: 'ops', groups: [] }, 'viewer-token': { username: 'viewer', groups: [] } },
    { ops: ['lab'], viewer: ['lab'] },
  );
  authorizer.patchRbac = { ops: ['lab'] };
  let served: Awaited<ReturnType<typeof serveRouter>>;
  let base: string;

  beforeAll(async () => {
    served = await serveRouter({ hosts, templates, authorizer, writer });
    base = served.base;
  });
  afterAll(() => served.close());

  const post = async (path: string, body: unknown, token = 'ops-token', headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/api/hosts/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { message?: string; note?: string } };
  };

  it('reinstalls, reboots and accepts for a user who may patch the host; each recorded with who', async () => {
    expect(await post('lab/node-01/actions/reinstall', {})).toEqual({ status: 202, body: { action: 'reinstall', note: 'reinstall: spec.provisioning.revision 2 -> 3' } });
    expect(hosts.get('lab', 'node-01')!.spec.provisioning?.revision).toBe(3);
    expect(hosts.get('lab', 'node-01')!.metadata.annotations?.['anvil.dev/last-action']).toMatch(/^reinstall by ops at /);
    expect((await post('lab/node-01/actions/reboot', { mode: 'Hard' })).status).toBe(202);
    expect(hosts.get('lab', 'node-01')!.spec.reboot).toMatchObject({ mode: 'Hard', requestId: expect.stringMatching(/^dashboard-/) });
    expect(await post('lab/discovered-525400123458/actions/accept', { template: 'ubuntu-2404' })).toMatchObject({ status: 202 });
    expect(hosts.get('lab', 'discovered-525400123458')!.spec.templateRef).toEqual({ name: 'ubuntu-2404' });
    expect(writer.recorded).toEqual([
      'lab/node-01 reinstall: reinstall: spec.provisioning.revision 2 -> 3 (by ops, from the dashboard)',
      expect.stringMatching(/^lab\/node-01 reboot: reboot \(Hard\)/),
      'lab/discovered-525400123458 accept: accept: spec.templateRef ubuntu-2404 (by ops, from the dashboard)',
    ]);
  });

  it('refuses who may not patch (403), what the host does not allow (409), a bad body (400), an unknown action or host (404)', async () => {
    const before = writer.patches.length;
    expect(await post('lab/node-01/actions/reinstall', {}, 'viewer-token')).toEqual({ status: 403, body: { error: 'Forbidden', message: 'viewer may not patch baremetalhosts.anvil.dev node-01 in namespace lab (RBAC: grant the patch verb on baremetalhosts in the anvil.dev API group)' } });
    expect((await post('other/x/actions/reinstall', {})).status).toBe(403);
    expect(await post('lab/node-01/actions/accept', { template: 'ubuntu-2404' })).toMatchObject({ status: 409, body: { message: 'lab/node-01 has a template already (ubuntu)' } });
    expect(await post('lab/node-01/actions/reboot', '{"mode":')).toEqual({ status: 400, body: { error: 'BadRequest', message: 'the body must be a JSON object' } });
    expect((await post('lab/node-01/actions/reboot', { pad: 'x'.repeat(5000) })).status).toBe(413);
    expect((await post('lab/node-01/actions/format-disks', {})).status).toBe(404);
    expect((await post('lab/node-99/actions/reboot', {})).status).toBe(404);
    expect(writer.patches.length).toBe(before);
  });

  it('takes the token from the Authorization header only: the session cookie (which any page could make the browser send) is not enough', async () => {
    const res = await post('lab/node-01/actions/reinstall', {}, '', { Cookie: 'anvil_dashboard_token=ops-token' });
    expect(res.status).toBe(401);
  });

  it('answers 409 when the host changed since the dashboard read it (the revision test op fails)', async () => {
    const stale = new FakeHostSource([fakeHost('lab', 'node-01')]);
    const racing = new FakeHostWriter(hosts); // writes to a host whose revision is already ahead of the stale cache
    const other = await serveRouter({ hosts: stale, authorizer, writer: racing });
    try {
      const res = await fetch(`${other.base}/api/hosts/lab/node-01/actions/reinstall`, { method: 'POST', headers: { Authorization: 'Bearer ops-token', 'Content-Type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(409);
      expect(hosts.get('lab', 'node-01')!.spec.provisioning?.revision).toBe(3);
    } finally {
      await other.close();
    }
  });

  it('tells the host view what it may offer: all for ops, nothing for a viewer, templates to accept a Discovered host with', async () => {
    const view = async (path: string, token: string) => ((await (await fetch(`${base}/api/hosts/${path}`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { actions: unknown }).actions;
    expect(await view('lab/node-01', 'ops-token')).toEqual({ allowed: true, unavailable: { accept: 'lab/node-01 has a template already (ubuntu)' }, templates: [] });
    expect(await view('lab/node-01', 'viewer-token')).toMatchObject({ allowed: false });
    const fresh = discovered('lab', 'discovered-525400aa0001');
    hosts.put(fresh);
    expect(await view('lab/discovered-525400aa0001', 'ops-token')).toEqual({
      allowed: true,
      unavailable: { reinstall: 'lab/discovered-525400aa0001 has no template: accept it with one first', reboot: 'lab/discovered-525400aa0001 has no spec.bmc: anvil cannot power it' },
      templates: ['ubuntu-2404'],
    });
  });
});
