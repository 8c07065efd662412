// Session accounting for the TFTP server: a global cap and a cap per source address, so one source (a flood, a
// broken client looping on RRQs) cannot take the slots every other machine needs. Pure: the clock is injected.
//
// Pressure decides when a session that never acknowledged anything (a half-open session: the client sent an RRQ
// and never ACKed our first DATA or OACK) is given up at its next retransmission timeout instead of after the whole
// retry budget. Only when someone is actually waiting for a slot: the server is under pressure when it refused a
// request for lack of a free slot within the last `pressureMemoryMs` (then every half-open session goes), a source
// when it was refused for its own cap within that time (then its own half-open sessions go). Without refusals a slow
// or lossy client keeps the whole retry budget. The memory matters: the sessions of a flooding source all time out
// together and the source drops below its cap at the first reclaim, yet it is still asking for more than its share.

export interface SessionLimitsOptions {
  maxSessions: number;
  maxSessionsPerClient: number;
  /** How long a refusal keeps the server (or the refused source) under pressure. */
  pressureMemoryMs?: number;
  now?: () => number;
}

export type Admission = { ok: true } | { ok: false; limit: 'client' | 'server' };

interface Source {
  sessions: number;
  /** When this source was last refused for its own cap (-Infinity: never). */
  refusedAt: number;
}

export const DEFAULT_PRESSURE_MEMORY_MS = 10_000;

export class SessionLimits {
  readonly maxSessions: number;
  readonly maxSessionsPerClient: number;
  private readonly memoryMs: number;
  private readonly now: () => number;
  /** Sources with at least one session; an entry goes away with its last session, so the map stays bounded. */
  private readonly sources = new Map<string, Source>();
  private sessions = 0;
  private serverRefusedAt = -Infinity;

  constructor(o: SessionLimitsOptions) {
    this.maxSessions = Math.max(1, Math.floor(o.maxSessions));
    this.maxSessionsPerClient = Math.min(this.maxSessions, Math.max(1, Math.floor(o.maxSessionsPerClient)));
    this.memoryMs = o.pressureMemoryMs ?? DEFAULT_PRESSURE_MEMORY_MS;
    this.now = o.now ?? Date.now;
  }

  /** Takes a slot for `address`, or says which cap refused it (the source's own cap is checked first). */
  admit(address: string): Admission {
    const source = this.sources.get(address);
    if (source && source.sessions >= this.maxSessionsPerClient) {
      source.refusedAt = this.now();
      return { ok: false, limit: 'client' };
    }
    if (this.sessions >= this.maxSessions) {
      this.serverRefusedAt = this.now();
      return { ok: false, limit: 'server' };
    }
    if (source) source.sessions++;
    else this.sources.set(address, { sessions: 1, refusedAt: -Infinity });
    this.sessions++;
    return { ok: true };
  }

  /** Gives back a slot taken by admit(). */
  release(address: string): void {
    const source = this.sources.get(address);
    if (!source) return;
    this.sessions--;
    if (--source.sessions <= 0) this.sources.delete(address);
  }

  /** Sessions held by `address`. */
  sessionsOf(address: string): number {
    return this.sources.get(address)?.sessions ?? 0;
  }

  get total(): number {
    return this.sessions;
  }

  /** Sources holding at least one session (for tests: the accounting must not leak entries). */
  get sourceCount(): number {
    return this.sources.size;
  }

  /** Whether a never-acknowledged session of `address` should be reclaimed at its next timeout. */
  underPressure(address: string): boolean {
    const now = this.now();
    if (now - this.serverRefusedAt < this.memoryMs) return true;
    const source = this.sources.get(address);
    return source !== undefined && now - source.refusedAt < this.memoryMs;
  }
}
