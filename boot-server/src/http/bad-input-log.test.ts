// The bounded log of bad input: a flood logs at most a few lines a second.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { badInputLog } from './bad-input-log.js';

describe('badInputLog', () => {
  it('logs at most the given number of lines in each second, and again in the next', () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, cb) => void (lines.push(chunk.toString()), cb()) }));
    let now = 10_000;
    const logBad = badInputLog(log, 3, () => now);
    for (let i = 0; i < 10; i++) logBad('bad', { i });
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([0, 1, 2]);
    now += 1000;
    logBad('bad', { i: 10 });
    expect(lines).toHaveLength(3);
    now += 1;
    for (let i = 11; i < 20; i++) logBad('bad', { i });
    expect(lines.map((l) => (JSON.parse(l) as { i: number; msg: string }).i)).toEqual([0, 1, 2, 11, 12, 13]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: 'bad' });
  });
});
