import { MTU_1500_BLKSIZE, negotiate, type NegotiationLimits } from './options.js';

const limits: NegotiationLimits = { maxBlksize: MTU_1500_BLKSIZE, maxWindowsize: 16, defaultTimeoutMs: 1000 };
const opts = (o: Record<string, string>): Map<string, string> => new Map(Object.entries(o));

describe('TFTP option negotiation', () => {
  it('sends no OACK without options (or with only unknown ones)', () => {
    expect(negotiate(opts({}), 100, limits)).toEqual({ blksize: 512, windowsize: 1, timeoutMs: 1000, oack: undefined });
    expect(negotiate(opts({ multicast: '', foo: '1' }), 100, limits).oack).toBeUndefined();
  });

  it('answers tsize with the size only when asked, and never echoes unknown options', () => {
    const n = negotiate(opts({ tsize: '0', bar: '1' }), 12345, limits);
    expect(Object.fromEntries(n.oack ?? [])).toEqual({ tsize: '12345' });
    expect(negotiate(opts({ blksize: '1024' }), 12345, limits).oack?.has('tsize')).toBe(false);
  });

  it('leaves tsize out for an empty file (curl aborts on "tsize 0")', () => {
    expect(negotiate(opts({ tsize: '0' }), 0, limits).oack).toBeUndefined();
    expect(Object.fromEntries(negotiate(opts({ tsize: '0', blksize: '1024' }), 0, limits).oack ?? [])).toEqual({ blksize: '1024' });
  });

  it('clamps blksize to the configured maximum and ignores values below 8 or not numbers', () => {
    expect(negotiate(opts({ blksize: '65464' }), 0, limits)).toMatchObject({ blksize: 1468, oack: new Map([['blksize', '1468']]) });
    expect(negotiate(opts({ blksize: '99999' }), 0, { ...limits, maxBlksize: 100000 })).toMatchObject({ blksize: 65464 });
    expect(negotiate(opts({ blksize: '8' }), 0, limits)).toMatchObject({ blksize: 8 });
    expect(negotiate(opts({ blksize: '7' }), 0, limits)).toMatchObject({ blksize: 512, oack: undefined });
    expect(negotiate(opts({ blksize: '-1' }), 0, limits)).toMatchObject({ blksize: 512, oack: undefined });
    expect(negotiate(opts({ blksize: '1e3' }), 0, limits)).toMatchObject({ blksize: 512, oack: undefined });
  });

  it('accepts timeout 1..255 seconds as sent, ignores the rest', () => {
    expect(negotiate(opts({ timeout: '3' }), 0, limits)).toMatchObject({ timeoutMs: 3000, oack: new Map([['timeout', '3']]) });
    expect(negotiate(opts({ timeout: '0' }), 0, limits)).toMatchObject({ timeoutMs: 1000, oack: undefined });
    expect(negotiate(opts({ timeout: '256' }), 0, limits)).toMatchObject({ timeoutMs: 1000, oack: undefined });
    expect(negotiate(opts({ timeout: '6' }), 0, { ...limits, maxClientTimeoutSeconds: 2 })).toMatchObject({ timeoutMs: 1000, oack: undefined });
    expect(negotiate(opts({ timeout: '2' }), 0, { ...limits, maxClientTimeoutSeconds: 2 })).toMatchObject({ timeoutMs: 2000 });
  });

  it('clamps windowsize to the configured maximum', () => {
    expect(negotiate(opts({ windowsize: '8' }), 0, limits)).toMatchObject({ windowsize: 8 });
    expect(negotiate(opts({ windowsize: '65535' }), 0, limits)).toMatchObject({ windowsize: 16, oack: new Map([['windowsize', '16']]) });
    expect(negotiate(opts({ windowsize: '0' }), 0, limits)).toMatchObject({ windowsize: 1, oack: undefined });
  });

  it('keeps the client order of options in the OACK', () => {
    const n = negotiate(opts({ windowsize: '4', tsize: '0', blksize: '1024', timeout: '2' }), 7, limits);
    expect([...(n.oack ?? new Map()).keys()]).toEqual(['windowsize', 'tsize', 'blksize', 'timeout']);
  });
});
