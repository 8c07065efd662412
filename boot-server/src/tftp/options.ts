// Option negotiation for read requests (RFC 2347/2348/2349/7440): pure.
//
// - blksize (2348): 8..65464; larger values are clamped to our configured maximum (default 1468, what a 1500-byte
//   MTU leaves after IPv4/UDP/TFTP headers). Values below 8 or not a number: the option is ignored (not echoed).
// - timeout (2349): 1..255 seconds, accepted as sent (the RFC does not let the server change it) or ignored (also
//   when above the configured maxClientTimeoutSeconds: a long timeout holds a session slot for retries * timeout).
// - tsize (2349): answered with the file size only when the client asked (an RRQ carries 0), except for an empty
//   file (curl refuses `tsize 0`).
// - windowsize (7440): 1..65535, clamped to our configured maximum (bounds per-transfer memory).
// - Anything else is ignored and not echoed. When nothing is acknowledged there is no OACK and DATA 1 goes first.

export const BLKSIZE_MIN = 8;
export const BLKSIZE_MAX = 65464;
export const DEFAULT_BLKSIZE = 512;
/** 1500 (Ethernet MTU) - 20 (IPv4) - 8 (UDP) - 4 (TFTP DATA header). */
export const MTU_1500_BLKSIZE = 1468;
export const WINDOWSIZE_MAX = 65535;
/** Upper bound we allow for the configured maximum window, so a 16-bit ACK always maps to one block of the window. */
export const WINDOWSIZE_CONFIG_MAX = 32768;

export interface NegotiationLimits {
  /** Largest blksize we agree to (clamped to 8..65464). */
  maxBlksize: number;
  /** Largest windowsize we agree to (clamped to 1..32768). */
  maxWindowsize: number;
  /** Retransmission timeout when the client does not ask for one. */
  defaultTimeoutMs: number;
  /** A client `timeout` above this (seconds) is ignored, not echoed: we keep our default (default 255: accept all). */
  maxClientTimeoutSeconds?: number;
}

export interface Negotiated {
  blksize: number;
  windowsize: number;
  timeoutMs: number;
  /** Options to put in the OACK, in the client's order; undefined means send no OACK (start with DATA 1). */
  oack: Map<string, string> | undefined;
}

/** Strict decimal: digits only, no sign, no spaces, at most 10 digits. */
function parseDecimal(value: string): number | undefined {
  if (!/^[0-9]{1,10}$/.test(value)) return undefined;
  return Number(value);
}

export function clampLimits(limits: NegotiationLimits): NegotiationLimits {
  return {
    maxBlksize: Math.min(BLKSIZE_MAX, Math.max(BLKSIZE_MIN, Math.floor(limits.maxBlksize))),
    maxWindowsize: Math.min(WINDOWSIZE_CONFIG_MAX, Math.max(1, Math.floor(limits.maxWindowsize))),
    defaultTimeoutMs: Math.max(1, Math.floor(limits.defaultTimeoutMs)),
    maxClientTimeoutSeconds: Math.min(255, Math.max(0, Math.floor(limits.maxClientTimeoutSeconds ?? 255))),
  };
}

/** Negotiates the options of a read request for a file of `size` bytes. */
export function negotiate(requested: ReadonlyMap<string, string>, size: number, limits: NegotiationLimits): Negotiated {
  const l = clampLimits(limits);
  const result: Negotiated = { blksize: DEFAULT_BLKSIZE, windowsize: 1, timeoutMs: l.defaultTimeoutMs, oack: undefined };
  const oack = new Map<string, string>();
  for (const [name, value] of requested) {
    const n = parseDecimal(value.trim());
    switch (name) {
      case 'blksize':
        if (n === undefined || n < BLKSIZE_MIN) break;
        result.blksize = Math.min(n, l.maxBlksize);
        oack.set('blksize', String(result.blksize));
        break;
      case 'timeout':
        if (n === undefined || n < 1 || n > 255 || n > (l.maxClientTimeoutSeconds ?? 255)) break;
        result.timeoutMs = n * 1000;
        oack.set('timeout', String(n));
        break;
      case 'tsize':
        // For an RRQ the client sends 0; any number is accepted and answered with the real size.
        // Not for an empty file: curl (7.88, still in 8.x) rejects "tsize 0" in an OACK as invalid and aborts; RFC 2347
        // lets the server leave an option out, and the client then simply learns the size from the transfer.
        if (n === undefined || size === 0) break;
        oack.set('tsize', String(size));
        break;
      case 'windowsize':
        if (n === undefined || n < 1 || n > WINDOWSIZE_MAX) break;
        result.windowsize = Math.min(n, l.maxWindowsize);
        oack.set('windowsize', String(result.windowsize));
        break;
      default:
        break; // unknown options are ignored, not echoed
    }
  }
  if (oack.size) result.oack = oack;
  return result;
}
