// The diff between two kept revisions of a template, for the host view.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AutoinstallTemplate } from '@anvil/core/api';
import { specsText } from './template-revisions.js';
import { FakeAuthorizer, FakeHostSource, FakeTemplateSource } from './testing/fakes.js';
import { serveRouter } from './testing/serve-router.js';

const data = {
  'ubuntu-r1': { chain: ['ubuntu'], specs: { ubuntu: { userData: '#cloud-config\nautoinstall:\n  version: 1\n', defaults: { timezone: 'UTC' } } } },
  'ubuntu-r2': { chain: ['ubuntu'], specs: { ubuntu: { userData: '#cloud-config\nautoinstall:\n  version: 1\n  late-commands: [reboot]\n', defaults: { timezone: 'UTC' } } } },
};

describe('template revision diffs', () => {
  it('writes the specs so that a line diff shows the changed lines of the files', () => {
    expect(specsText(data['ubuntu-r2'])).toBe('chain: ubuntu\n# ubuntu\ndefaults: {\n  "timezone": "UTC"\n}\nuserData: |\n  #cloud-config\n  autoinstall:\n    version: 1\n    late-commands: [reboot]\n');
  });

  const template = {
    apiVersion: 'anvil.dev/v1alpha1', kind: 'AutoinstallTemplate', metadata: { namespace: 'lab', name: 'ubuntu' }, spec: {},
    status: { revisions: [
      { revision: 2, contentHash: 'sha256:bb', controllerRevision: 'ubuntu-r2', createdAt: '2026-12-07T12:00:00Z' },
      { revision: 1, contentHash: 'sha256:aa', controllerRevision: 'ubuntu-r1', createdAt: '2026-12-06T12:00:00Z' },
    ] },
  } as AutoinstallTemplate;
  const authorizer = new FakeAuthorizer({ 'ops-token': { username: 'ops', groups: [] }, 'other-token': { username: 'other', groups: [] } }, { ops: ['lab'], other: [] });
  let served: Awaited<ReturnType<typeof serveRouter>>;
  let base: string;
  beforeAll(async () => {
    const revisions = { revisionData: async (_ns: string, name: string) => data[name as keyof typeof data] };
    served = await serveRouter({ hosts: new FakeHostSource(), templates: new FakeTemplateSource([template]), revisions, authorizer });
    base = served.base;
  });
  afterAll(() => served.close());
  const get = async (path: string, token = 'ops-token') => {
    const res = await fetch(`${base}/api/templates/lab/${path}`, { headers: { Authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as { diff?: string; message?: string } };
  };

  it('answers the unified diff between two kept revisions; 404 for one not kept; 403 without list on templates', async () => {
    const ok = await get('ubuntu/revisions/1/2');
    expect(ok.status).toBe(200);
    expect(ok.body.diff).toContain('--- ubuntu revision 1\n+++ ubuntu revision 2\n');
    expect(ok.body.diff).toContain('+    late-commands: [reboot]\n');
    expect(await get('ubuntu/revisions/1/5')).toMatchObject({ status: 404, body: { message: 'lab/ubuntu keeps no revision 5 (kept: 2, 1)' } });
    expect(await get('nope/revisions/1/2')).toMatchObject({ status: 404 });
    expect((await get('ubuntu/revisions/1/2', 'other-token')).status).toBe(403);
  });
});
