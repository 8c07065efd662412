import { IndexedStore, NAMESPACE_INDEX } from './store.js';
import type { KubeObject } from './types.js';

type Host = KubeObject & { spec?: { mac?: string; macs?: string[] } };
const host = (namespace: string, name: string, mac?: string, macs?: string[]): Host => ({
  apiVersion: 'anvil.dev/v1alpha1',
  kind: 'BareMetalHost',
  metadata: { namespace, name },
  spec: { ...(mac ? { mac } : {}), ...(macs ? { macs } : {}) },
});
const names = (objs: KubeObject[]) => objs.map((o) => o.metadata.name).sort();

describe('IndexedStore', () => {
  it('finds objects by namespace and by a custom index, following updates and deletes', () => {
    const store = new IndexedStore<Host>();
    store.addIndex('mac', (h) => (h.spec?.mac ? [h.spec.mac] : []));
    store.set('a/h1', host('a', 'h1', 'm1'));
    store.set('a/h2', host('a', 'h2', 'm1'));
    store.set('b/h3', host('b', 'h3', 'm2'));
    expect(names(store.byIndex('mac', 'm1'))).toEqual(['h1', 'h2']);
    expect(names(store.byIndex(NAMESPACE_INDEX, 'a'))).toEqual(['h1', 'h2']);

    store.set('a/h2', host('a', 'h2', 'm2')); // MAC changed: leaves m1's entry, joins m2's
    expect(names(store.byIndex('mac', 'm1'))).toEqual(['h1']);
    expect(names(store.byIndex('mac', 'm2'))).toEqual(['h2', 'h3']);

    store.delete('a/h1');
    expect(store.byIndex('mac', 'm1')).toEqual([]);
    expect(names(store.byIndex(NAMESPACE_INDEX, 'a'))).toEqual(['h2']);
    expect(store.size).toBe(2);
    store.delete('a/h1'); // deleting twice is harmless
    expect(store.size).toBe(2);
  });

  it('indexes objects already present when an index is added, and several values per object', () => {
    const store = new IndexedStore<Host>();
    store.set('a/h1', host('a', 'h1', undefined, ['x', 'y', 'x']));
    store.set('a/h2', host('a', 'h2', undefined, ['y']));
    store.addIndex('macs', (h) => h.spec?.macs ?? []);
    expect(names(store.byIndex('macs', 'x'))).toEqual(['h1']);
    expect(names(store.byIndex('macs', 'y'))).toEqual(['h1', 'h2']);
    store.set('a/h1', host('a', 'h1', undefined, []));
    expect(names(store.byIndex('macs', 'y'))).toEqual(['h2']);
    expect(store.byIndex('macs', 'x')).toEqual([]);
  });

  it('leaves out objects an index function cannot read, and rejects unknown indexes', () => {
    const store = new IndexedStore<Host>();
    store.addIndex('mac', (h) => [h.spec!.mac!.toLowerCase()]);
    store.set('a/broken', { apiVersion: 'v1', kind: 'X', metadata: { namespace: 'a', name: 'broken' } } as Host);
    store.set('a/ok', host('a', 'ok', 'M'));
    expect(names(store.byIndex('mac', 'm'))).toEqual(['ok']);
    expect(store.get('a/broken')?.metadata.name).toBe('broken');
    expect(() => store.byIndex('nope', 'x')).toThrow('no index "nope"');
  });
});
