import { DhcpOption, MessageType } from './codes.js';
import { decodeVendorSubOptions, encodeVendorSubOptions, pxeRequestInfo } from './options.js';
import { DhcpParseError, clientMac, encodeDhcp, encodeOptions, parseDhcp, type DhcpPacket, type ParseResult } from './packet.js';
import { UUID, clients, rawRequest } from './testing/requests.js';

const MAC = '52:54:00:12:34:56';
const parsed = (buf: Buffer): DhcpPacket => {
  const r = parseDhcp(buf);
  if (!r.ok) throw new Error(r.error.message);
  return r.packet;
};
const errorCode = (r: ParseResult): string | undefined => (r.ok ? undefined : r.error.code);

describe('parseDhcp', () => {
  it('reads the header and options of a BIOS PXE ROM discover', () => {
    const p = parsed(clients.biosPxeRom(MAC));
    expect(p).toMatchObject({ op: 1, htype: 1, hlen: 6, xid: 0x1234abcd, flags: 0x8000, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', giaddr: '0.0.0.0', sname: '', file: '' });
    expect(clientMac(p)).toBe(MAC);
    expect(p.options.get(DhcpOption.MessageType)).toEqual(Buffer.from([MessageType.Discover]));
    expect(pxeRequestInfo(p)).toMatchObject({ messageType: 1, vendorClass: 'PXEClient:Arch:00000:UNDI:002001', arch: 0, userClasses: [], ipxeOptions: false, uuid: UUID, ndi: { type: 1, major: 2, minor: 1 } });
  });

  it('recognises iPXE by its user class and option 175', () => {
    expect(pxeRequestInfo(parsed(clients.ipxe(MAC)))).toMatchObject({ userClasses: ['iPXE'], ipxeOptions: true, arch: 0 });
  });

  it('reads RFC 3004 length-prefixed user classes', () => {
    const p = parsed(rawRequest({ mac: MAC, options: [[77, [4, ...Buffer.from('iPXE'), 3, ...Buffer.from('foo')]]] }));
    expect(pxeRequestInfo(p)).toMatchObject({ userClasses: ['iPXE', 'foo'] });
  });

  it('concatenates repeated options (RFC 3396) and encodes long ones in pieces', () => {
    const long = Buffer.alloc(300, 7);
    const p = parsed(rawRequest({ mac: MAC, options: [[43, long.subarray(0, 200)], [60, 'PXEClient'], [43, long.subarray(200)]] }));
    expect(p.options.get(43)).toEqual(long);
    expect(parsed(encodeDhcp(p)).options.get(43)).toEqual(long);
    expect(encodeOptions(new Map([[43, long]])).length).toBe(300 + 4);
  });

  it('reads options from the file and sname fields when option 52 says so, file first', () => {
    const buf = rawRequest({ mac: MAC, options: [[52, [3]], [60, 'A']] });
    Buffer.from([60, 1, 0x42, 255]).copy(buf, 108); // file
    Buffer.from([60, 1, 0x43, 67, 3, 0x66, 0x6f, 0x6f, 255]).copy(buf, 44); // sname
    const p = parsed(buf);
    expect(p.options.get(60)?.toString()).toBe('ABC');
    expect(p.options.get(67)?.toString()).toBe('foo');
    expect(p.options.has(52)).toBe(false);
    expect([p.file, p.sname]).toEqual(['', '']);
  });

  it('round-trips every client through encodeDhcp', () => {
    for (const make of [clients.biosPxeRom, clients.ipxe, clients.ovmfX64, clients.arm64Uefi, clients.httpBoot]) {
      const p = parsed(make(MAC));
      const again = encodeDhcp(p);
      expect(again.length).toBeGreaterThanOrEqual(300);
      expect(parsed(again)).toEqual(p);
    }
  });

  it('returns a typed error for every kind of malformed packet', () => {
    const good = clients.biosPxeRom(MAC);
    const mutate = (f: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(good);
      f(b);
      return b;
    };
    expect(errorCode(parseDhcp(Buffer.alloc(0)))).toBe('too-short');
    expect(errorCode(parseDhcp(good.subarray(0, 239)))).toBe('too-short');
    expect(errorCode(parseDhcp(mutate((b) => (b[0] = 3))))).toBe('bad-op');
    expect(errorCode(parseDhcp(mutate((b) => (b[2] = 17))))).toBe('bad-hlen');
    expect(errorCode(parseDhcp(mutate((b) => (b[236] = 0))))).toBe('no-magic-cookie');
    expect(errorCode(parseDhcp(good.subarray(0, good.length - 1)))).toBe('missing-end');
    expect(errorCode(parseDhcp(good.subarray(0, 243)))).toBe('missing-end'); // ends right after option 53
    expect(errorCode(parseDhcp(good.subarray(0, 244)))).toBe('truncated-option'); // a code without its length byte
    expect(errorCode(parseDhcp(good.subarray(0, 246)))).toBe('truncated-option'); // a value cut short
    expect(errorCode(parseDhcp(mutate((b) => (b[241] = 250))))).toBe('truncated-option');
    expect(errorCode(parseDhcp(rawRequest({ mac: MAC, options: [[52, [4]]] })))).toBe('bad-option');
    expect(errorCode(parseDhcp(rawRequest({ mac: MAC, options: [[52, [1]]] })))).toBe('missing-end'); // file field is all pad
    const nested = rawRequest({ mac: MAC, options: [[52, [1]]] });
    Buffer.from([52, 1, 2, 255]).copy(nested, 108);
    expect(errorCode(parseDhcp(nested))).toBe('bad-option');
    const r = parseDhcp(Buffer.alloc(10));
    expect(!r.ok && r.error instanceof DhcpParseError && r.error.message).toMatch(/10 bytes/);
  });

  it('never throws or reads past the buffer on any prefix of a valid packet', () => {
    const good = clients.ipxe(MAC);
    for (let n = 0; n <= good.length; n++) {
      const r = parseDhcp(good.subarray(0, n));
      expect(r.ok).toBe(n === good.length);
    }
  });

  it('rejects badly formed PXE options with a typed error', () => {
    const info = (options: [number, number[]][]) => pxeRequestInfo(parsed(rawRequest({ mac: MAC, options })));
    expect(info([[93, [0]]])).toBeInstanceOf(DhcpParseError);
    expect(info([[97, [1, 2, 3]]])).toBeInstanceOf(DhcpParseError);
    expect(info([[94, [1, 2]]])).toBeInstanceOf(DhcpParseError);
    expect(info([[54, [1, 2, 3]]])).toBeInstanceOf(DhcpParseError);
    expect(info([[61, [1]]])).toBeInstanceOf(DhcpParseError);
    const noType = parsed(rawRequest({ mac: MAC, options: [] }));
    noType.options.delete(DhcpOption.MessageType);
    expect(pxeRequestInfo(noType)).toBeInstanceOf(DhcpParseError);
    expect(info([[93, [0, 7, 0, 0]]])).toMatchObject({ arch: 7 });
  });
});

describe('PXE vendor sub-options', () => {
  it('encodes and decodes PXE_DISCOVERY_CONTROL, ended by 255', () => {
    const enc = encodeVendorSubOptions(new Map([[6, Buffer.from([8])]]));
    expect(enc).toEqual(Buffer.from([6, 1, 8, 255]));
    expect(decodeVendorSubOptions(enc)).toEqual(new Map([[6, Buffer.from([8])]]));
    expect(decodeVendorSubOptions(Buffer.from([6, 1, 8]))).toBeInstanceOf(DhcpParseError);
    expect(decodeVendorSubOptions(Buffer.from([6, 5, 8, 255]))).toBeInstanceOf(DhcpParseError);
  });
});

describe('encodeDhcp', () => {
  it('refuses what cannot be sent instead of writing a broken packet', () => {
    const p = parsed(clients.biosPxeRom(MAC));
    expect(() => encodeDhcp({ ...p, file: 'x'.repeat(128) })).toThrow(/file is longer than 127/);
    expect(() => encodeDhcp({ ...p, siaddr: '10.0.0.256' })).toThrow(/siaddr/);
    expect(() => encodeDhcp({ ...p, options: new Map([[255, Buffer.alloc(1)]]) })).toThrow(/option code 255/);
  });
});
