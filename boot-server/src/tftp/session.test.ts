import { SessionMachine, type SessionParams, type Step } from './session.js';

const machine = (p: Partial<SessionParams> = {}): SessionMachine => new SessionMachine({ size: 0, blksize: 512, windowsize: 1, retries: 3, timeoutMs: 1000, oack: false, ...p });
const data = (first: number, last = first): Step['send'] => ({ kind: 'data', first, last });

describe('TFTP session state machine', () => {
  it('counts blocks: the last one is short, or empty at a multiple of blksize', () => {
    expect(machine({ size: 0 }).totalBlocks).toBe(1);
    expect(machine({ size: 511 }).totalBlocks).toBe(1);
    expect(machine({ size: 512 }).totalBlocks).toBe(2);
    expect(machine({ size: 513 }).totalBlocks).toBe(2);
    expect(machine({ size: 3 * 1468, blksize: 1468 }).totalBlocks).toBe(4);
    const m = machine({ size: 1000 });
    expect(m.blockRange(1)).toEqual({ start: 0, end: 512 });
    expect(m.blockRange(2)).toEqual({ start: 512, end: 1000 });
    expect(machine({ size: 1024 }).blockRange(3)).toEqual({ start: 1024, end: 1024 });
  });

  it('sends an empty file as one empty block and finishes on its ACK', () => {
    const m = machine({ size: 0 });
    expect(m.start()).toMatchObject({ send: data(1), timerMs: 1000, retransmitted: 0 });
    expect(m.onAck(1)).toMatchObject({ done: { result: 'ok' } });
    expect(m.finished).toBe(true);
  });

  it('lock-step: ACK n resumes at n + 1; a duplicate ACK sends nothing (no Sorcerer\'s Apprentice)', () => {
    const m = machine({ size: 2000 });
    expect(m.start().send).toEqual(data(1));
    expect(m.onAck(1).send).toEqual(data(2));
    const dup = m.onAck(1);
    expect(dup.send).toBeUndefined();
    expect(dup.timerMs).toBeUndefined();
    expect(dup.ignored).toMatch(/duplicate/);
    expect(m.onAck(2).send).toEqual(data(3));
    expect(m.onAck(2).send).toBeUndefined();
    expect(m.onAck(3).send).toEqual(data(4));
    expect(m.onAck(4).done?.result).toBe('ok');
  });

  it('ignores an ACK for a block not sent yet', () => {
    const m = machine({ size: 5000 });
    m.start();
    expect(m.onAck(5).ignored).toMatch(/not sent/);
    expect(m.onAck(1).send).toEqual(data(2));
  });

  it('retransmits on timeout, up to the retry limit, and a fresh ACK resets the count', () => {
    const m = machine({ size: 2000, retries: 2 });
    m.start();
    expect(m.onTimeout()).toMatchObject({ send: data(1), retransmitted: 1, timerMs: 1000 });
    expect(m.onTimeout()).toMatchObject({ send: data(1), retransmitted: 1 });
    expect(m.onAck(1).send).toEqual(data(2));
    expect(m.onTimeout().send).toEqual(data(2));
    expect(m.onTimeout().send).toEqual(data(2));
    const last = m.onTimeout();
    expect(last.send).toBeUndefined();
    expect(last.done?.result).toBe('timeout');
    expect(m.onAck(2).ignored).toBeDefined();
  });

  it('with an OACK waits for ACK 0, retransmits the OACK on timeout, ignores other ACKs', () => {
    const m = machine({ size: 100, oack: true });
    expect(m.start()).toMatchObject({ send: { kind: 'oack' }, timerMs: 1000 });
    expect(m.onAck(1).send).toBeUndefined();
    expect(m.onTimeout()).toMatchObject({ send: { kind: 'oack' }, retransmitted: 1 });
    expect(m.onAck(0).send).toEqual(data(1));
    // the ACK 0 answering the retransmitted OACK is a duplicate now
    expect(m.onAck(0).send).toBeUndefined();
    expect(m.onAck(1).done?.result).toBe('ok');
  });

  it('a client ERROR right after the OACK ends quietly; during the transfer it is an abort', () => {
    const probe = machine({ size: 100, oack: true });
    probe.start();
    expect(probe.onError(8, 'tsize probe')).toMatchObject({ done: { result: 'aborted', quiet: true } });
    const m = machine({ size: 5000 });
    m.start();
    m.onAck(1);
    expect(m.onError(0, 'user cancelled')).toMatchObject({ done: { result: 'aborted', quiet: false } });
    expect(m.onAck(2).send).toBeUndefined();
  });

  it('rolls block numbers over past 65535 (wire 0 follows 65535) and finishes on the wrapped final ACK', () => {
    const blocks = 65535 + 10; // final block is 65545, wire number 9
    const m = machine({ size: (blocks - 1) * 8 + 3, blksize: 8 });
    expect(m.totalBlocks).toBe(blocks);
    m.start();
    for (let b = 1; b < 65535; b++) m.onAck(b & 0xffff);
    expect(m.onAck(65535).send).toEqual(data(65536));
    expect(m.onAck(0).send).toEqual(data(65537));
    // a stale ACK 65535 (now older than ACK 0) is ignored, not read as a jump forward
    expect(m.onAck(65535).send).toBeUndefined();
    expect(m.onAck(0).send).toBeUndefined();
    for (let b = 1; b < 9; b++) expect(m.onAck(b).send).toEqual(data(65536 + b + 1));
    expect(m.onAck(9).done?.result).toBe('ok');
  });

  it('windowsize: sends a window, slides on the last ACK, and clips at the end of the file', () => {
    const m = machine({ size: 10 * 512 + 100, windowsize: 4 }); // 11 blocks
    expect(m.start()).toMatchObject({ send: data(1, 4), retransmitted: 0 });
    expect(m.onAck(4)).toMatchObject({ send: data(5, 8), retransmitted: 0 });
    expect(m.onAck(8)).toMatchObject({ send: data(9, 11), retransmitted: 0 });
    expect(m.onAck(11).done?.result).toBe('ok');
  });

  it('windowsize: an ACK for a block inside the window resends from the next block', () => {
    const m = machine({ size: 20 * 512, windowsize: 4 });
    m.start(); // 1..4
    const step = m.onAck(2); // client lost block 3
    expect(step).toMatchObject({ send: data(3, 6), retransmitted: 2 });
    expect(m.onAck(2).send).toBeUndefined(); // duplicate
    expect(m.onAck(6)).toMatchObject({ send: data(7, 10), retransmitted: 0 });
  });

  it('windowsize: a timeout resends the unacknowledged window', () => {
    const m = machine({ size: 20 * 512, windowsize: 4 });
    m.start();
    m.onAck(1);
    // window after ACK 1 is 2..5
    expect(m.onTimeout()).toMatchObject({ send: data(2, 5), retransmitted: 4 });
  });

  it('windowsize across the rollover', () => {
    const m = machine({ size: 70000 * 8, blksize: 8, windowsize: 8 });
    m.start();
    let acked = 0;
    while (acked + 8 < 65530) {
      acked += 8;
      m.onAck(acked & 0xffff);
    }
    // acked = 65528, window 65529..65536 (wire 65529..65535, 0)
    expect(m.onAck(65528 & 0xffff).send).toBeUndefined();
    expect(m.onAck(0).send).toEqual(data(65537, 65544));
    expect(m.onAck(3).send).toEqual(data(65540, 65547)); // mid-window ACK after the wrap
  });

  it('backs the retransmission timer off exponentially up to its ceiling, and resets it on progress', () => {
    const m = machine({ size: 5000, retries: 6, timeoutMs: 100, maxTimeoutMs: 700 });
    expect(m.start().timerMs).toBe(100);
    expect([1, 2, 3, 4].map(() => m.onTimeout().timerMs)).toEqual([200, 400, 700, 700]);
    expect(m.onAck(1).timerMs).toBe(100);
    expect(m.onTimeout().timerMs).toBe(200);
    // without a ceiling there is no backoff
    const flat = machine({ size: 5000, timeoutMs: 100 });
    flat.start();
    expect([1, 2, 3].map(() => flat.onTimeout().timerMs)).toEqual([100, 100, 100]);
  });

  it('reclaims a half-open session at a timeout when asked: never acknowledged, after the OACK or DATA 1', () => {
    const afterOack = machine({ size: 5000, oack: true, retries: 5 });
    afterOack.start();
    expect(afterOack.halfOpen).toBe(true);
    expect(afterOack.onTimeout(true)).toEqual({ retransmitted: 0, reclaimed: true, done: { result: 'timeout', quiet: true, reason: expect.stringMatching(/never acknowledged/) } });
    expect(afterOack.finished).toBe(true);
    expect(afterOack.onAck(0).send).toBeUndefined(); // too late: the slot went to someone else
    const afterData = machine({ size: 5000, retries: 5 });
    afterData.start();
    expect(afterData.onTimeout().send).toEqual(data(1)); // no pressure: the retry budget as usual
    expect(afterData.onTimeout(true)).toMatchObject({ reclaimed: true, done: { result: 'timeout', quiet: true } });
  });

  it('never reclaims a session the client acknowledged once (the OACK, or a block)', () => {
    const oack = machine({ size: 5000, oack: true, retries: 2 });
    oack.start();
    oack.onAck(0);
    expect(oack.halfOpen).toBe(false);
    expect(oack.onTimeout(true)).toMatchObject({ send: data(1), retransmitted: 1 });
    const plain = machine({ size: 5000, retries: 2 });
    plain.start();
    plain.onAck(1);
    expect(plain.onTimeout(true)).toMatchObject({ send: data(2), retransmitted: 1 });
    expect(plain.onTimeout(true).send).toEqual(data(2));
    expect(plain.onTimeout(true)).toMatchObject({ done: { result: 'timeout', quiet: false } }); // its retries, then the usual end
    expect(plain.onTimeout(true).reclaimed).toBeUndefined();
  });

  it('abort ends the session once', () => {
    const m = machine({ size: 10 });
    m.start();
    expect(m.abort('stop').done?.result).toBe('aborted');
    expect(m.abort('again').done).toBeUndefined();
  });
});
