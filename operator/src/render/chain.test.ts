import type { AutoinstallTemplateSpec } from '@anvil/core/api';
import { fixtureTemplates, lookupOf } from '../../../test/fixtures/render.js';
import { deepMerge, MAX_CHAIN_DEPTH, resolveTemplate } from './chain.js';
import type { RenderError } from './errors.js';
import { renderErrorOf } from './testing/render-error.js';

const artifact = (c: string) => ({ url: `http://mirror/${c}`, sha256: c.repeat(64).slice(0, 64) });

const chainError = (fn: () => unknown): RenderError => renderErrorOf('chain', fn);

describe('resolveTemplate', () => {
  it('resolves the fixture overlay: chain base first, inherited files, includes loadable, defaults merged', () => {
    const r = resolveTemplate('ubuntu-2404-web', lookupOf(fixtureTemplates()));
    expect(r.chain).toEqual(['ubuntu-2404-base', 'ubuntu-2404-web']);
    expect(r.includes).toEqual(['common-snippets']);
    expect(r.dependencies).toEqual(['common-snippets', 'ubuntu-2404-base', 'ubuntu-2404-web']);
    // the overlay sets no userData, metaData or kernelArgs: the base's are rendered
    expect(r.entries).toEqual({
      userData: 'ubuntu-2404-base/userData',
      metaData: 'ubuntu-2404-base/metaData',
      networkConfig: 'ubuntu-2404-web/networkConfig',
      vendorData: 'ubuntu-2404-web/vendorData',
      kernelArgs: 'ubuntu-2404-base/kernelArgs',
    });
    expect(Object.keys(r.sources).sort()).toEqual([
      'common-snippets/userData',
      'ubuntu-2404-base/kernelArgs',
      'ubuntu-2404-base/metaData',
      'ubuntu-2404-base/userData',
      'ubuntu-2404-web/networkConfig',
      'ubuntu-2404-web/vendorData',
    ]);
    // base < the overlay's includes < the overlay
    expect(r.defaults).toEqual({
      locale: 'en_US.UTF-8',
      keyboard: 'us',
      timezone: 'Europe/Berlin',
      packages: ['nginx'],
      sshKeys: [expect.stringMatching(/^ssh-ed25519 /)],
    });
    expect(r.boot.kernel?.url).toBe('https://releases.example.com/ubuntu/24.04/casper/vmlinuz');
    expect(r.boot.iso?.url).toBe('http://mirror.internal/ubuntu-24.04.1-live-server-amd64.iso');
    expect(r.boot.kernelArgs).toContain('ip=dhcp');
    expect(r.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('merges defaults deeply in chain order, includes below their template, arrays replaced', () => {
    const templates: Record<string, AutoinstallTemplateSpec> = {
      base: { defaults: { a: 1, nested: { x: 1, y: 1, list: [1, 2] }, fromBase: true }, includes: ['inc-base'] },
      'inc-base': { defaults: { a: 0, fromIncBase: true, nested: { x: 0, z: 0 } } },
      mid: { extends: 'base', defaults: { nested: { y: 2, list: [3] } }, includes: ['inc-mid-1', 'inc-mid-2'] },
      'inc-mid-1': { defaults: { order: 'inc-mid-1', fromIncMid: 1 } },
      'inc-mid-2': { defaults: { order: 'inc-mid-2' } },
      top: { extends: 'mid', defaults: { a: 3 } },
    };
    const r = resolveTemplate('top', lookupOf(templates));
    expect(r.chain).toEqual(['base', 'mid', 'top']);
    expect(r.defaults).toEqual({
      a: 3,
      fromBase: true,
      fromIncBase: true,
      fromIncMid: 1,
      order: 'inc-mid-2',
      nested: { x: 1, y: 2, z: 0, list: [3] },
    });
    // inputs untouched
    expect(templates.base!.defaults).toEqual({ a: 1, nested: { x: 1, y: 1, list: [1, 2] }, fromBase: true });
  });

  it('takes each boot field from the nearest template that sets it, artifacts whole', () => {
    const r = resolveTemplate(
      'overlay',
      lookupOf({
        base: { boot: { kernel: artifact('a'), initrd: artifact('b'), kernelArgs: 'console=ttyS0' }, userData: 'base' },
        overlay: { extends: 'base', boot: { initrd: artifact('c') } },
      }),
    );
    expect(r.boot).toEqual({ kernel: artifact('a'), initrd: artifact('c'), kernelArgs: 'console=ttyS0' });
    expect(r.entries).toEqual({ userData: 'base/userData', kernelArgs: 'base/kernelArgs' });
  });

  it('lets an overlay replace a file; an empty string counts as set', () => {
    const r = resolveTemplate('o', lookupOf({ b: { userData: 'b', metaData: 'b' }, o: { extends: 'b', userData: 'o', metaData: '' } }));
    expect(r.entries).toEqual({ userData: 'o/userData', metaData: 'o/metaData' });
  });

  it('reports a missing template, naming who extends it', () => {
    expect(chainError(() => resolveTemplate('nope', lookupOf({}))).message).toBe('AutoinstallTemplate "nope" not found');
    expect(chainError(() => resolveTemplate('o', lookupOf({ o: { extends: 'gone' } }))).message).toBe(
      'AutoinstallTemplate "gone" (extended by "o") not found',
    );
    expect(chainError(() => resolveTemplate('o', lookupOf({ o: { includes: ['gone'] } }))).message).toBe('AutoinstallTemplate "gone" not found');
  });

  it('reports extends cycles with the cycle', () => {
    const err = chainError(() => resolveTemplate('a', lookupOf({ a: { extends: 'b' }, b: { extends: 'c' }, c: { extends: 'b' } })));
    expect(err.message).toBe('extends forms a cycle: b -> c -> b');
    expect(chainError(() => resolveTemplate('a', lookupOf({ a: { extends: 'a' } }))).message).toBe('extends forms a cycle: a -> a');
  });

  it('reports include cycles, also through extends', () => {
    expect(chainError(() => resolveTemplate('a', lookupOf({ a: { includes: ['b'] }, b: { includes: ['a'] } }))).message).toBe(
      'includes form a cycle: a -> b -> a',
    );
    expect(chainError(() => resolveTemplate('a', lookupOf({ a: { extends: 'b' }, b: { includes: ['a'] } }))).message).toBe(
      'includes form a cycle: a -> a',
    );
  });

  it(`accepts a chain of ${MAX_CHAIN_DEPTH} templates and refuses a longer one`, () => {
    const chain = (n: number) => {
      const templates: Record<string, AutoinstallTemplateSpec> = { t1: {} };
      for (let i = 2; i <= n; i++) templates[`t${i}`] = { extends: `t${i - 1}` };
      return lookupOf(templates);
    };
    expect(resolveTemplate(`t${MAX_CHAIN_DEPTH}`, chain(MAX_CHAIN_DEPTH)).chain).toHaveLength(MAX_CHAIN_DEPTH);
    expect(chainError(() => resolveTemplate(`t${MAX_CHAIN_DEPTH + 1}`, chain(MAX_CHAIN_DEPTH + 1))).message).toBe(
      `the extends chain of "t${MAX_CHAIN_DEPTH + 1}" is longer than ${MAX_CHAIN_DEPTH} templates`,
    );
  });

  it('refuses includes nested too deep', () => {
    const templates: Record<string, AutoinstallTemplateSpec> = { i0: {} };
    for (let i = 1; i <= MAX_CHAIN_DEPTH + 1; i++) templates[`i${i}`] = { includes: [`i${i - 1}`] };
    expect(chainError(() => resolveTemplate(`i${MAX_CHAIN_DEPTH + 1}`, lookupOf(templates))).message).toMatch(/^includes are nested deeper than 10/);
  });

  it('changes the content hash when anything the result depends on changes, and only then', () => {
    const templates = fixtureTemplates();
    const hash = () => resolveTemplate('ubuntu-2404-web', lookupOf(templates)).contentHash;
    const before = hash();
    expect(hash()).toBe(before);
    // same content, keys in another order
    templates['ubuntu-2404-base'] = Object.fromEntries(Object.entries(templates['ubuntu-2404-base']!).reverse());
    expect(hash()).toBe(before);
    templates['common-snippets'] = { ...templates['common-snippets'], userData: '{# changed #}' };
    expect(hash()).not.toBe(before);
  });

  it('refuses defaults that are not a mapping', () => {
    const bad = { defaults: ['x'] } as unknown as AutoinstallTemplateSpec;
    expect(chainError(() => resolveTemplate('a', lookupOf({ a: bad }))).message).toBe('template "a": defaults must be a mapping');
  });
});

describe('deepMerge', () => {
  it('merges objects, replaces everything else, drops __proto__ keys', () => {
    const overlay = JSON.parse('{"a": {"b": 2}, "__proto__": {"polluted": true}, "n": null}') as Record<string, unknown>;
    const merged = deepMerge({ a: { a: 1 }, n: { x: 1 } }, overlay);
    expect(merged).toEqual({ a: { a: 1, b: 2 }, n: null });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
  });
});

describe('isPlainObject', () => {
  it('accepts plain objects from any realm (structuredClone, other VM contexts) and rejects the rest', async () => {
    const { isPlainObject } = await import('./chain.js');
    expect(isPlainObject({ a: 1 })).toBe(true);
    expect(isPlainObject(structuredClone({ a: 1 }))).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    expect(isPlainObject([])).toBe(false);
    expect(isPlainObject(new Date())).toBe(false);
    expect(isPlainObject(null)).toBe(false);
  });
});
