import { ErrorCode, decodePacket, encodeAck, encodeData, encodeDataHeader, encodeError, encodeOack, encodeRequest, wireBlock } from './packet.js';

describe('TFTP packets', () => {
  it('decodes a read request with mode and options (names lower-cased, first value wins, odd trailing field ignored)', () => {
    const buf = Buffer.concat([encodeRequest('RRQ', 'undionly.kpxe', 'OCTET', { BlkSize: 1468, tsize: 0, blksize: 9 }), Buffer.from('dangling\0')]);
    const p = decodePacket(buf);
    expect(p).toMatchObject({ op: 'RRQ', mode: 'octet' });
    if (p.op !== 'RRQ') throw new Error('not RRQ');
    expect(p.filename.toString()).toBe('undionly.kpxe');
    expect([...p.options]).toEqual([['blksize', '1468'], ['tsize', '0']]);
  });

  it('decodes WRQ, DATA, ACK, ERROR and OACK', () => {
    expect(decodePacket(encodeRequest('WRQ', 'x'))).toMatchObject({ op: 'WRQ', mode: 'octet' });
    const data = decodePacket(encodeData(65536 + 7, Buffer.from('abc')));
    expect(data).toMatchObject({ op: 'DATA', block: 7 });
    if (data.op === 'DATA') expect(data.data.toString()).toBe('abc');
    expect(decodePacket(encodeAck(65535))).toEqual({ op: 'ACK', block: 65535 });
    expect(decodePacket(encodeError(ErrorCode.FILE_NOT_FOUND, 'File not found'))).toEqual({ op: 'ERROR', code: 1, message: 'File not found' });
    const oack = decodePacket(encodeOack(new Map([['blksize', '1468'], ['tsize', '42']])));
    expect(oack.op).toBe('OACK');
    if (oack.op === 'OACK') expect(Object.fromEntries(oack.options)).toEqual({ blksize: '1468', tsize: '42' });
  });

  it('accepts an ERROR without its NUL terminator and an ACK with padding', () => {
    expect(decodePacket(Buffer.from([0, 5, 0, 8, 0x61, 0x62]))).toEqual({ op: 'ERROR', code: 8, message: 'ab' });
    expect(decodePacket(Buffer.from([0, 4, 0, 3, 0, 0, 0]))).toEqual({ op: 'ACK', block: 3 });
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from([0])],
    ['unknown opcode', Buffer.from([0, 9, 1, 2])],
    ['opcode 0', Buffer.from([0, 0])],
    ['RRQ without NUL', Buffer.from([0, 1, 0x61, 0x62])],
    ['RRQ without mode', Buffer.from([0, 1, 0x61, 0])],
    ['RRQ with empty filename', Buffer.from([0, 1, 0, 0x6f, 0])],
    ['RRQ with unterminated option', Buffer.concat([encodeRequest('RRQ', 'a'), Buffer.from('blksize')])],
    ['RRQ with too many options', encodeRequest('RRQ', 'a', 'octet', Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`o${i}`, i])))],
    ['short DATA', Buffer.from([0, 3, 0])],
    ['short ACK', Buffer.from([0, 4, 1])],
    ['short ERROR', Buffer.from([0, 5, 0])],
    ['odd OACK', Buffer.from([0, 6, 0x61, 0])],
  ])('reports %s as invalid without throwing', (_name, buf) => {
    expect(decodePacket(buf).op).toBe('invalid');
  });

  it('wraps block numbers past 65535 to 0', () => {
    expect(wireBlock(65535)).toBe(65535);
    expect(wireBlock(65536)).toBe(0);
    expect(wireBlock(65537)).toBe(1);
    expect(encodeDataHeader(65536)).toEqual(Buffer.from([0, 3, 0, 0]));
  });

  it('keeps error messages short', () => {
    expect(encodeError(0, 'x'.repeat(5000)).length).toBeLessThan(300);
  });
});
