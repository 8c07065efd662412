import type { AutoinstallTemplate } from '@anvil/core/api';
import type { KubeObject } from '@anvil/core/kube';
import { MemoryKubeClient } from '@anvil/core/src/kube/memory-client.js';
import { CONTROLLER_REVISION, controllerRevisionName, recordRevision, type TemplateRevision } from './revisions.js';

const T0 = new Date('2026-12-07T12:00:00Z');
const hash = (n: number) => `sha256:${String(n).padStart(2, '0').repeat(32)}`;

function template(revisions: TemplateRevision[] = []): AutoinstallTemplate {
  return { apiVersion: 'anvil.dev/v1alpha1', kind: 'AutoinstallTemplate', metadata: { name: 'ubuntu', namespace: 'lab', uid: 'uid-1' }, spec: {}, status: { revisions } } as AutoinstallTemplate;
}
const data = (n: number) => ({ contentHash: hash(n), chain: ['ubuntu'], specs: { ubuntu: { defaults: { n } } } });

describe('template revisions', () => {
  it('numbers each new content, keeps it in a ControllerRevision owned by the template, and changes nothing for the same content', async () => {
    const client = new MemoryKubeClient();
    const first = await recordRevision(client, template(), data(1), T0);
    expect(first).toEqual([{ revision: 1, contentHash: hash(1), controllerRevision: 'ubuntu-0101010101', createdAt: T0.toISOString() }]);
    const stored = await client.get<KubeObject & { data: unknown; revision: number }>(CONTROLLER_REVISION, { namespace: 'lab', name: 'ubuntu-0101010101' });
    expect(stored).toMatchObject({ revision: 1, data: data(1), metadata: { labels: { 'anvil.dev/template': 'ubuntu' }, ownerReferences: [{ kind: 'AutoinstallTemplate', name: 'ubuntu', uid: 'uid-1', controller: true }] } });
    const writes = client.writes.length;
    expect(await recordRevision(client, template(first), data(1), T0)).toBe(first);
    expect(client.writes.length).toBe(writes);

    const second = await recordRevision(client, template(first), data(2), T0);
    expect(second.map((r) => r.revision)).toEqual([2, 1]);
    // an edit undone: the next number, the same ControllerRevision
    const third = await recordRevision(client, template(second), data(1), T0);
    expect(third.map((r) => [r.revision, r.controllerRevision])).toEqual([[3, 'ubuntu-0101010101'], [2, 'ubuntu-0202020202']]);
  });

  it('keeps the last 10 and deletes the ControllerRevisions that fell off', async () => {
    const client = new MemoryKubeClient();
    let revisions: TemplateRevision[] = [];
    for (let n = 1; n <= 12; n++) revisions = await recordRevision(client, template(revisions), data(n), T0);
    expect(revisions.map((r) => r.revision)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
    const left = (await client.list(CONTROLLER_REVISION, { namespace: 'lab' })).items.map((o) => o.metadata.name).sort();
    expect(left).toEqual(revisions.map((r) => r.controllerRevision).sort());
    expect(controllerRevisionName('x'.repeat(300), hash(1))).toHaveLength(253);
  });
});
