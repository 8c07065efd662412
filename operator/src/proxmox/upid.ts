// PVE task identifiers: UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>: with pid, pstart and starttime
// in upper-case hex (pid and pstart 8 digits, starttime the UNIX time). The user part of a task started with an API
// token is `user@realm!tokenid`.

export interface Upid {
  node: string;
  pid: number;
  pstart: number;
  /** Start time, seconds since the UNIX epoch. */
  starttime: number;
  /** Task type, e.g. download, qmcreate, resize, qmtemplate, qmdestroy, qmstart. */
  type: string;
  /** Task id, usually the VMID (empty for some tasks). */
  id: string;
  user: string;
}

const UPID_RE = /^UPID:([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;

/** Parses a UPID; undefined when the string is not one. */
export function parseUpid(upid: string): Upid | undefined {
  const m = UPID_RE.exec(upid);
  if (!m) return undefined;
  return {
    node: m[1]!,
    pid: parseInt(m[3]!, 16),
    pstart: parseInt(m[4]!, 16),
    starttime: parseInt(m[5]!, 16),
    type: m[6]!,
    id: m[7]!,
    user: m[8]!,
  };
}

export function isUpid(value: unknown): value is string {
  return typeof value === 'string' && UPID_RE.test(value);
}
