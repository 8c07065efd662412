// The per-transfer state machine of a read request: what to send next given an ACK, an ERROR or a timeout. Pure:
// no sockets, no timers, no files. The adapter (transfer.ts) reads the blocks, sends them and runs the timer.
//
// Blocks are numbered by their absolute 1-based index here; only the wire uses 16-bit numbers (65535 wraps to 0).
// A file of `size` bytes has floor(size / blksize) + 1 blocks: the last one is short, or empty when the size is a
// multiple of blksize (including an empty file: one empty block).
//
// Rules:
// - Retransmit on the timer only. A duplicate ACK (for the block already acknowledged) changes nothing, so the
//   Sorcerer's Apprentice cannot happen.
// - ACK n (n newer than the last acknowledged block and not beyond what we sent) means "resume at n + 1": the next
//   window starts there. With windowsize, an ACK for a block inside the window (the client saw a gap) thus resends
//   from the block after it. ACKs for blocks older than the last acknowledged one, or not sent yet, are ignored.
// - After `retries` consecutive timeouts without progress the transfer ends with result 'timeout'. The timer backs
//   off exponentially (RFC 1123 4.2.3.2) from timeoutMs up to maxTimeoutMs, and returns to timeoutMs on progress:
//   some clients (atftp) re-ACK a repeated block only once and restart their own timer on every packet, so a server
//   retransmitting at a fixed short interval could keep such a client from ever repeating a lost ACK.
// - An ERROR from the client ends the transfer ('aborted'); right after our OACK (a PXE ROM probing tsize) it is
//   quiet: expected behaviour, not worth a warning.
// - A half-open session (the client never acknowledged anything: not the OACK, not DATA 1) is given up at a timeout,
//   quietly and without retransmitting, when the caller says slots are wanted (onTimeout(true): see limits.ts). A
//   client that acknowledged once is alive and keeps the whole retry budget.

export type TransferResult = 'ok' | 'error' | 'timeout' | 'aborted';

export interface SessionParams {
  size: number;
  blksize: number;
  windowsize: number;
  /** Retransmissions after the first send before giving up. */
  retries: number;
  /** Retransmission timer after a send that made progress. */
  timeoutMs: number;
  /** Ceiling of the backed-off timer (default timeoutMs: no backoff). */
  maxTimeoutMs?: number;
  /** Whether negotiation produced an OACK (the client must ACK block 0 before DATA 1). */
  oack: boolean;
}

export type Send = { kind: 'oack' } | { kind: 'data'; first: number; last: number };

export interface Step {
  send?: Send;
  /** How many of the packets in `send` were sent before (retransmissions, for metrics). */
  retransmitted: number;
  /** (Re)start the retransmission timer with this delay (set after every send); undefined leaves it alone. */
  timerMs?: number;
  done?: { result: Exclude<TransferResult, 'error'>; quiet: boolean; reason: string };
  /** Why the event changed nothing (debug logs, tests). */
  ignored?: string;
  /** The session ended because it never acknowledged anything and its slot was wanted. */
  reclaimed?: boolean;
}

type State = 'new' | 'oack-sent' | 'sending' | 'done';

const nothing = (ignored: string): Step => ({ retransmitted: 0, ignored });

export class SessionMachine {
  readonly totalBlocks: number;
  private state: State = 'new';
  /** Absolute index of the last block the client acknowledged (0: none, or the OACK). */
  private lastAcked = 0;
  /** Absolute index of the highest block sent so far. */
  private lastSent = 0;
  private retriesLeft: number;
  /** Whether the client ever acknowledged something (the OACK or a block). */
  private heardFrom = false;

  constructor(private readonly params: SessionParams) {
    if (!(params.blksize >= 1) || !(params.windowsize >= 1) || !(params.size >= 0)) throw new Error('invalid session parameters');
    this.totalBlocks = Math.floor(params.size / params.blksize) + 1;
    this.retriesLeft = params.retries;
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  /** True until the client acknowledges the OACK or a block. */
  get halfOpen(): boolean {
    return !this.heardFrom;
  }

  /** Blocks acknowledged so far (for logs and tests). */
  get acknowledged(): number {
    return this.lastAcked;
  }

  /** Byte range [start, end) of an absolute block. */
  blockRange(block: number): { start: number; end: number } {
    const start = (block - 1) * this.params.blksize;
    return { start, end: Math.min(start + this.params.blksize, this.params.size) };
  }

  start(): Step {
    if (this.state !== 'new') return nothing('already started');
    if (this.params.oack) {
      this.state = 'oack-sent';
      return { send: { kind: 'oack' }, retransmitted: 0, timerMs: this.params.timeoutMs };
    }
    this.state = 'sending';
    return this.sendWindow();
  }

  /** An ACK carrying the 16-bit block number `wire`. */
  onAck(wire: number): Step {
    switch (this.state) {
      case 'new':
      case 'done':
        return nothing(`ACK in state ${this.state}`);
      case 'oack-sent':
        if ((wire & 0xffff) !== 0) return nothing(`ACK ${wire} before the OACK was acknowledged`);
        this.state = 'sending';
        this.heardFrom = true;
        this.retriesLeft = this.params.retries;
        return this.sendWindow();
      case 'sending': {
        const absolute = this.lastAcked + (((wire & 0xffff) - (this.lastAcked & 0xffff)) & 0xffff);
        if (absolute === this.lastAcked) return nothing(`duplicate ACK ${wire}`);
        if (absolute > this.lastSent) return nothing(`ACK ${wire} for a block not sent (or older than ${this.lastAcked & 0xffff})`);
        this.lastAcked = absolute;
        this.heardFrom = true;
        this.retriesLeft = this.params.retries;
        if (absolute === this.totalBlocks) {
          this.state = 'done';
          return { retransmitted: 0, done: { result: 'ok', quiet: false, reason: 'last block acknowledged' } };
        }
        return this.sendWindow();
      }
    }
  }

  /** The retransmission timer expired; `reclaimIfHalfOpen`: slots are wanted, so a never-acknowledged session ends. */
  onTimeout(reclaimIfHalfOpen = false): Step {
    if (this.state === 'new' || this.state === 'done') return nothing(`timeout in state ${this.state}`);
    if (reclaimIfHalfOpen && !this.heardFrom) {
      this.state = 'done';
      return { retransmitted: 0, reclaimed: true, done: { result: 'timeout', quiet: true, reason: 'never acknowledged; slot reclaimed under pressure' } };
    }
    if (this.retriesLeft <= 0) {
      this.state = 'done';
      return { retransmitted: 0, done: { result: 'timeout', quiet: false, reason: `no answer after ${this.params.retries} retransmissions` } };
    }
    this.retriesLeft--;
    const attempt = this.params.retries - this.retriesLeft; // 1 for the first retransmission
    const timerMs = Math.min(this.params.timeoutMs * 2 ** attempt, Math.max(this.params.timeoutMs, this.params.maxTimeoutMs ?? this.params.timeoutMs));
    if (this.state === 'oack-sent') return { send: { kind: 'oack' }, retransmitted: 1, timerMs };
    const first = this.lastAcked + 1;
    return { send: { kind: 'data', first, last: this.lastSent }, retransmitted: this.lastSent - first + 1, timerMs };
  }

  /** An ERROR packet from the client. */
  onError(code: number, message: string): Step {
    if (this.state === 'done') return nothing('ERROR after the end');
    const quiet = this.state === 'oack-sent' || this.state === 'new';
    this.state = 'done';
    return { retransmitted: 0, done: { result: 'aborted', quiet, reason: `client error ${code}: ${message}` } };
  }

  /** Ends the session from outside (server stopping). */
  abort(reason: string): Step {
    if (this.state === 'done') return nothing('already done');
    this.state = 'done';
    return { retransmitted: 0, done: { result: 'aborted', quiet: false, reason } };
  }

  private sendWindow(): Step {
    const first = this.lastAcked + 1;
    const last = Math.min(this.lastAcked + this.params.windowsize, this.totalBlocks);
    const retransmitted = Math.max(0, Math.min(last, this.lastSent) - first + 1);
    this.lastSent = Math.max(this.lastSent, last);
    return { send: { kind: 'data', first, last }, retransmitted, timerMs: this.params.timeoutMs };
  }
}
