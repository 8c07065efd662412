// DHCPv4 packets (RFC 2131 header, RFC 2132 options): parse into a plain object and serialise back. Parsing is strict
// and total: any input gives either a packet or a DhcpParseError value, never an exception and never a read past the
// buffer. Repeated options are concatenated (RFC 3396); option overload (52) reads options from `file` and `sname`.
import { DhcpOption } from './codes.js';

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const MAGIC_COOKIE = 0x63825363;
const HEADER_LENGTH = 236;
const OPTIONS_OFFSET = HEADER_LENGTH + 4;
const SNAME = { offset: 44, length: 64 } as const;
const FILE = { offset: 108, length: 128 } as const;
/** BOOTP's minimum message size: some PXE ROMs drop shorter replies (RFC 1542 section 2.1). */
const MIN_ENCODED_LENGTH = 300;

export type DhcpParseErrorCode = 'too-short' | 'bad-op' | 'bad-hlen' | 'no-magic-cookie' | 'truncated-option' | 'missing-end' | 'bad-option';

export class DhcpParseError {
  readonly name = 'DhcpParseError';
  constructor(
    readonly code: DhcpParseErrorCode,
    readonly message: string,
  ) {}
}

export interface DhcpPacket {
  op: typeof BOOTREQUEST | typeof BOOTREPLY;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The 16-byte client hardware address field as sent; `hlen` bytes of it are the address. */
  chaddr: Buffer;
  /** Server host name and boot file name, unless the overload option used those fields for options. */
  sname: string;
  file: string;
  /** Option code to value, repeated instances concatenated, in first-seen order; pad, end and 52 are not kept. */
  options: Map<number, Buffer>;
}

export type ParseResult = { ok: true; packet: DhcpPacket } | { ok: false; error: DhcpParseError };

const fail = (code: DhcpParseErrorCode, message: string): ParseResult => ({ ok: false, error: new DhcpParseError(code, message) });
const ipv4 = (buf: Buffer, at: number): string => `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;

/** A NUL-terminated ASCII field; bytes after the first NUL are ignored. */
function cString(buf: Buffer, offset: number, length: number): string {
  const field = buf.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('latin1');
}

/** Reads one options area into `into`; an error when an option runs past the area or the area has no end option. */
function readOptionArea(area: Buffer, where: string, into: Map<number, Buffer[]>): DhcpParseError | undefined {
  let at = 0;
  while (at < area.length) {
    const code = area[at]!;
    if (code === DhcpOption.Pad) {
      at++;
      continue;
    }
    if (code === DhcpOption.End) return undefined;
    if (at + 1 >= area.length) return new DhcpParseError('truncated-option', `option ${code} in ${where} has no length`);
    const length = area[at + 1]!;
    if (at + 2 + length > area.length) return new DhcpParseError('truncated-option', `option ${code} in ${where} runs past the end (${length} bytes)`);
    const parts = into.get(code) ?? [];
    parts.push(area.subarray(at + 2, at + 2 + length));
    into.set(code, parts);
    at += 2 + length;
  }
  return new DhcpParseError('missing-end', `${where} has no end option`);
}

export function parseDhcp(buf: Buffer): ParseResult {
  if (buf.length < OPTIONS_OFFSET) return fail('too-short', `${buf.length} bytes, a DHCP message has at least ${OPTIONS_OFFSET}`);
  const op = buf[0]!;
  if (op !== BOOTREQUEST && op !== BOOTREPLY) return fail('bad-op', `op ${op} is neither BOOTREQUEST nor BOOTREPLY`);
  const hlen = buf[2]!;
  if (hlen > 16) return fail('bad-hlen', `hardware address length ${hlen} exceeds 16`);
  if (buf.readUInt32BE(HEADER_LENGTH) !== MAGIC_COOKIE) return fail('no-magic-cookie', 'no DHCP magic cookie (a plain BOOTP message?)');

  const parts = new Map<number, Buffer[]>();
  const mainError = readOptionArea(buf.subarray(OPTIONS_OFFSET), 'options', parts);
  if (mainError) return { ok: false, error: mainError };
  const overload = parts.get(DhcpOption.Overload);
  let overloadValue = 0;
  if (overload) {
    const v = Buffer.concat(overload);
    if (v.length !== 1 || v[0]! < 1 || v[0]! > 3) return fail('bad-option', 'option 52 (overload) must be one byte of 1, 2 or 3');
    overloadValue = v[0]!;
    parts.delete(DhcpOption.Overload);
    // RFC 2131 4.1: the file field is read before sname.
    for (const [bit, field, name] of [[1, FILE, 'file'], [2, SNAME, 'sname']] as const) {
      if (!(overloadValue & bit)) continue;
      const error = readOptionArea(buf.subarray(field.offset, field.offset + field.length), `overloaded ${name} field`, parts);
      if (error) return { ok: false, error };
      if (parts.has(DhcpOption.Overload)) return fail('bad-option', `option 52 (overload) inside the overloaded ${name} field`);
    }
  }
  const options = new Map<number, Buffer>();
  for (const [code, values] of parts) options.set(code, values.length === 1 ? values[0]! : Buffer.concat(values));

  return {
    ok: true,
    packet: {
      op,
      htype: buf[1]!,
      hlen,
      hops: buf[3]!,
      xid: buf.readUInt32BE(4),
      secs: buf.readUInt16BE(8),
      flags: buf.readUInt16BE(10),
      ciaddr: ipv4(buf, 12),
      yiaddr: ipv4(buf, 16),
      siaddr: ipv4(buf, 20),
      giaddr: ipv4(buf, 24),
      chaddr: Buffer.from(buf.subarray(28, 44)),
      sname: overloadValue & 2 ? '' : cString(buf, SNAME.offset, SNAME.length),
      file: overloadValue & 1 ? '' : cString(buf, FILE.offset, FILE.length),
      options,
    },
  };
}

export class DhcpEncodeError extends Error {
  override readonly name = 'DhcpEncodeError';
}

function writeIpv4(buf: Buffer, at: number, address: string, field: string): void {
  const octets = address.split('.');
  if (octets.length !== 4 || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) throw new DhcpEncodeError(`${field} "${address}" is not an IPv4 address`);
  octets.forEach((o, i) => (buf[at + i] = Number(o)));
}

function writeCString(buf: Buffer, field: { offset: number; length: number }, value: string, name: string): void {
  const bytes = Buffer.from(value, 'latin1');
  // One byte is kept for the terminating NUL.
  if (bytes.length >= field.length || bytes.includes(0)) throw new DhcpEncodeError(`${name} is longer than ${field.length - 1} bytes or holds a NUL`);
  bytes.copy(buf, field.offset);
}

/** Options as code-length-value triples; values over 255 bytes are split into several instances (RFC 3396). */
export function encodeOptions(options: ReadonlyMap<number, Buffer>): Buffer {
  const chunks: Buffer[] = [];
  for (const [code, value] of options) {
    if (!Number.isInteger(code) || code <= DhcpOption.Pad || code >= DhcpOption.End) throw new DhcpEncodeError(`option code ${code} cannot be sent as an option`);
    let at = 0;
    do {
      const piece = value.subarray(at, at + 255);
      chunks.push(Buffer.from([code, piece.length]), piece);
      at += 255;
    } while (at < value.length);
  }
  return Buffer.concat(chunks);
}

/** The packet on the wire (never overloaded: our answers are short), padded to BOOTP's 300 bytes. */
export function encodeDhcp(p: DhcpPacket): Buffer {
  const options = encodeOptions(p.options);
  const buf = Buffer.alloc(Math.max(MIN_ENCODED_LENGTH, OPTIONS_OFFSET + options.length + 1));
  buf[0] = p.op;
  buf[1] = p.htype;
  if (p.hlen > 16 || p.chaddr.length > 16) throw new DhcpEncodeError('hardware address longer than 16 bytes');
  buf[2] = p.hlen;
  buf[3] = p.hops;
  buf.writeUInt32BE(p.xid >>> 0, 4);
  buf.writeUInt16BE(p.secs & 0xffff, 8);
  buf.writeUInt16BE(p.flags & 0xffff, 10);
  writeIpv4(buf, 12, p.ciaddr, 'ciaddr');
  writeIpv4(buf, 16, p.yiaddr, 'yiaddr');
  writeIpv4(buf, 20, p.siaddr, 'siaddr');
  writeIpv4(buf, 24, p.giaddr, 'giaddr');
  p.chaddr.copy(buf, 28);
  writeCString(buf, SNAME, p.sname, 'sname');
  writeCString(buf, FILE, p.file, 'file');
  buf.writeUInt32BE(MAGIC_COOKIE, HEADER_LENGTH);
  options.copy(buf, OPTIONS_OFFSET);
  buf[OPTIONS_OFFSET + options.length] = DhcpOption.End;
  return buf;
}

/** The client's hardware address as aa:bb:cc:dd:ee:ff, or undefined unless it is Ethernet (htype 1, hlen 6). */
/** A reply to `request`: its transaction, flags, relay and client hardware address, with these addresses and options. */
export function replyTo(request: DhcpPacket, fields: Pick<DhcpPacket, 'ciaddr' | 'yiaddr' | 'siaddr' | 'file' | 'options'>): DhcpPacket {
  return {
    op: BOOTREPLY,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: request.flags,
    giaddr: request.giaddr,
    chaddr: Buffer.from(request.chaddr),
    sname: '',
    ...fields,
  };
}

export function clientMac(p: DhcpPacket): string | undefined {
  if (p.htype !== 1 || p.hlen !== 6) return undefined;
  return [...p.chaddr.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
