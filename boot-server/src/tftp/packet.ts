// TFTP packets (RFC 1350, OACK from RFC 2347): pure encode/decode, no I/O.
//
// Decoding never throws: anything malformed comes back as { op: 'invalid', reason } so the caller can answer
// ERROR 4 (or ignore it) without a try/catch on the hot path.

export const Opcode = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

export const ErrorCode = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  /** RFC 2347: the client or server refuses the option negotiation. */
  OPTION_REFUSED: 8,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Longest option list we parse: a request carrying more is refused as malformed (it cannot be a real client). */
export const MAX_REQUEST_OPTIONS = 32;

export interface RequestPacket {
  op: 'RRQ' | 'WRQ';
  /** Raw filename bytes (up to the first NUL); see filename.ts for how they become a path. */
  filename: Buffer;
  /** Transfer mode, lower-cased (octet, netascii, mail, ...). */
  mode: string;
  /** Options in request order, names lower-cased, values as sent. Duplicate names keep the first value. */
  options: Map<string, string>;
}
export interface DataPacket { op: 'DATA'; block: number; data: Buffer }
export interface AckPacket { op: 'ACK'; block: number }
export interface ErrorPacket { op: 'ERROR'; code: number; message: string }
export interface OackPacket { op: 'OACK'; options: Map<string, string> }
export interface InvalidPacket { op: 'invalid'; reason: string; /** opcode when the first two bytes were readable */ opcode?: number }

export type Packet = RequestPacket | DataPacket | AckPacket | ErrorPacket | OackPacket;
export type Decoded = Packet | InvalidPacket;

const invalid = (reason: string, opcode?: number): InvalidPacket => (opcode === undefined ? { op: 'invalid', reason } : { op: 'invalid', reason, opcode });

/** Splits NUL-terminated fields starting at `start`. Returns undefined when the last field lacks its NUL. */
function nulFields(buf: Buffer, start: number, max: number): Buffer[] | undefined {
  const fields: Buffer[] = [];
  let pos = start;
  while (pos < buf.length) {
    const end = buf.indexOf(0, pos);
    if (end < 0) return undefined;
    fields.push(buf.subarray(pos, end));
    if (fields.length > max) return fields; // caller rejects
    pos = end + 1;
  }
  return fields;
}

export function decodePacket(buf: Buffer): Decoded {
  if (buf.length < 2) return invalid('packet shorter than an opcode');
  const opcode = buf.readUInt16BE(0);
  switch (opcode) {
    case Opcode.RRQ:
    case Opcode.WRQ: {
      const fields = nulFields(buf, 2, 2 + MAX_REQUEST_OPTIONS * 2);
      if (!fields) return invalid('request field without NUL terminator', opcode);
      if (fields.length < 2) return invalid('request without filename and mode', opcode);
      if (fields.length > 2 + MAX_REQUEST_OPTIONS * 2) return invalid('too many options', opcode);
      const [filename, modeBuf, ...rest] = fields as [Buffer, Buffer, ...Buffer[]];
      if (filename.length === 0) return invalid('empty filename', opcode);
      const mode = modeBuf.toString('latin1').toLowerCase();
      const options = new Map<string, string>();
      // An odd trailing field (option name without value) is ignored, as tftp-hpa does.
      for (let i = 0; i + 1 < rest.length; i += 2) {
        const name = (rest[i] as Buffer).toString('latin1').toLowerCase();
        if (!name || options.has(name)) continue;
        options.set(name, (rest[i + 1] as Buffer).toString('latin1'));
      }
      return { op: opcode === Opcode.RRQ ? 'RRQ' : 'WRQ', filename, mode, options };
    }
    case Opcode.DATA:
      if (buf.length < 4) return invalid('DATA shorter than its header', opcode);
      return { op: 'DATA', block: buf.readUInt16BE(2), data: buf.subarray(4) };
    case Opcode.ACK:
      // Some clients pad ACKs; only the block number matters.
      if (buf.length < 4) return invalid('ACK shorter than its header', opcode);
      return { op: 'ACK', block: buf.readUInt16BE(2) };
    case Opcode.ERROR: {
      if (buf.length < 4) return invalid('ERROR shorter than its header', opcode);
      const end = buf.indexOf(0, 4);
      // Be lenient about a missing NUL on error messages: they end the transfer either way.
      const message = buf.subarray(4, end < 0 ? buf.length : end).toString('utf8');
      return { op: 'ERROR', code: buf.readUInt16BE(2), message };
    }
    case Opcode.OACK: {
      const fields = nulFields(buf, 2, MAX_REQUEST_OPTIONS * 2);
      if (!fields || fields.length % 2 !== 0 || fields.length > MAX_REQUEST_OPTIONS * 2) return invalid('malformed OACK', opcode);
      const options = new Map<string, string>();
      for (let i = 0; i < fields.length; i += 2) options.set((fields[i] as Buffer).toString('latin1').toLowerCase(), (fields[i + 1] as Buffer).toString('latin1'));
      return { op: 'OACK', options };
    }
    default:
      return invalid(`unknown opcode ${opcode}`, opcode);
  }
}

/** Wire block number of the 1-based absolute block index: wraps 65535 -> 0 (tftp-hpa, atftp and curl expect 0). */
export const wireBlock = (absolute: number): number => absolute & 0xffff;

/** DATA header only (4 bytes); send it with the payload as a two-buffer datagram to avoid copying the payload. */
export function encodeDataHeader(absoluteBlock: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt16BE(Opcode.DATA, 0);
  b.writeUInt16BE(wireBlock(absoluteBlock), 2);
  return b;
}

export function encodeData(absoluteBlock: number, data: Uint8Array): Buffer {
  return Buffer.concat([encodeDataHeader(absoluteBlock), data]);
}

export function encodeAck(block: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt16BE(Opcode.ACK, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  return b;
}

/** Longest error message we put on the wire (keeps error datagrams small; they may go to spoofed sources). */
const MAX_ERROR_MESSAGE = 200;

export function encodeError(code: number, message: string): Buffer {
  const text = Buffer.from(message.slice(0, MAX_ERROR_MESSAGE), 'utf8');
  const b = Buffer.alloc(4 + text.length + 1);
  b.writeUInt16BE(Opcode.ERROR, 0);
  b.writeUInt16BE(code & 0xffff, 2);
  text.copy(b, 4);
  return b;
}

export function encodeOack(options: ReadonlyMap<string, string>): Buffer {
  const parts: Buffer[] = [Buffer.from([0, Opcode.OACK])];
  for (const [k, v] of options) parts.push(Buffer.from(`${k}\0${v}\0`, 'latin1'));
  return Buffer.concat(parts);
}

/** A request packet, for tests and test clients. */
export function encodeRequest(op: 'RRQ' | 'WRQ', filename: string | Buffer, mode = 'octet', options: Record<string, string | number> = {}): Buffer {
  const parts: Buffer[] = [Buffer.from([0, op === 'RRQ' ? Opcode.RRQ : Opcode.WRQ])];
  parts.push(typeof filename === 'string' ? Buffer.from(filename, 'utf8') : filename, Buffer.from([0]));
  parts.push(Buffer.from(`${mode}\0`, 'latin1'));
  for (const [k, v] of Object.entries(options)) parts.push(Buffer.from(`${k}\0${v}\0`, 'latin1'));
  return Buffer.concat(parts);
}
