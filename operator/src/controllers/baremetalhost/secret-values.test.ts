import { describe, expect, it } from '@jest/globals';
import type { CacheReader, KubeClient, KubeObject } from '@anvil/core/kube';
import { SecretValues, type SecretObject } from './secret-values.js';

/** A Secret store with versions, the client's GET over it (counted) and the metadata cache's view of it. */
function fixture() {
  const stored = new Map<string, SecretObject>();
  let gets = 0;
  let failNext = false;
  const deletedOnServer = new Set<string>();
  const put = (name: string, value: string, version: string) =>
    stored.set(name, { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'lab', name, resourceVersion: version }, data: { hash: Buffer.from(value).toString('base64') } });
  const client = {
    get: async (_type: unknown, ref: { name: string }) => {
      gets++;
      if (failNext) {
        failNext = false;
        throw new Error('connection reset');
      }
      return deletedOnServer.has(ref.name) ? undefined : stored.get(ref.name);
    },
  } as unknown as KubeClient;
  const versions: CacheReader<KubeObject> = {
    get: (_ns, name) => {
      const s = stored.get(name);
      return s ? { ...s, data: undefined } : undefined;
    },
    list: () => [...stored.values()],
  };
  let clock = 0;
  const values = new SecretValues(client, versions, 10_000, () => clock);
  const value = async (name: string) => {
    const s = await values.get('lab', name);
    return s ? Buffer.from(s.data!.hash!, 'base64').toString() : undefined;
  };
  return { put, values, value, gets: () => gets, failNext: () => (failNext = true), tick: (ms: number) => (clock += ms), deleteOnServer: (name: string) => deletedOnServer.add(name) };
}

describe('SecretValues', () => {
  it('reads a Secret shared by many renders once per version', async () => {
    const f = fixture();
    f.put('creds', 'one', '10');
    const reads = await Promise.all(Array.from({ length: 50 }, () => f.value('creds')));
    expect(new Set(reads)).toEqual(new Set(['one']));
    expect(f.gets()).toBe(1);
    f.put('creds', 'two', '11');
    expect(await f.value('creds')).toBe('two');
    expect(await f.value('creds')).toBe('two');
    expect(f.gets()).toBe(2);
  });

  it('drops a value nothing used for the idle time', async () => {
    const f = fixture();
    f.put('creds', 'one', '10');
    await f.value('creds');
    f.tick(9_000);
    await f.value('creds');
    expect(f.gets()).toBe(1);
    f.tick(10_000);
    await f.values.get('lab', 'other');
    expect(f.values.size).toBe(0);
    await f.value('creds');
    expect(f.gets()).toBe(3);
  });

  it('keeps neither a failed read nor a Secret that is gone', async () => {
    const f = fixture();
    f.put('creds', 'one', '10');
    f.failNext();
    await expect(f.value('creds')).rejects.toThrow('connection reset');
    expect(await f.value('creds')).toBe('one');
    expect(f.gets()).toBe(2);
    // Deleted on the API server, still listed by a lagging metadata cache: read again each time until it shows.
    f.put('gone', 'x', '20');
    f.deleteOnServer('gone');
    expect(await f.value('gone')).toBeUndefined();
    expect(await f.value('gone')).toBeUndefined();
    expect(f.gets()).toBe(4);
    expect(f.values.size).toBe(1);
  });

  it('keeps nothing without the metadata cache', async () => {
    let gets = 0;
    const client = { get: async () => (gets++, { metadata: { name: 'creds', resourceVersion: '1' }, data: {} }) } as unknown as KubeClient;
    const values = new SecretValues(client, undefined);
    await values.get('lab', 'creds');
    await values.get('lab', 'creds');
    expect(gets).toBe(2);
    expect(values.size).toBe(0);
  });
});
