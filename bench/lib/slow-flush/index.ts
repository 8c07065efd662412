// A disk with a slower cache flush, for the webhook benchmark: builds slow-flush.c (an LD_PRELOAD shim) and hands out
// the environment that puts a process on it. The delay lives in a file every shimmed process maps, so one run can
// measure the same processes with this machine's disk (delay 0) and with flushes as slow as a real disk's.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE = join(import.meta.dirname, 'slow-flush.c');

export interface SlowFlush {
  /** Environment for a process whose flushes the delay applies to. */
  env: Record<string, string>;
  /** Sets the added time of every flush, for every process started with `env` (0: the disk as it is). */
  setDelay(microseconds: number): void;
}

/** Builds the shim into `workDir`, or says why it cannot be built (no C compiler). */
export function prepareSlowFlush(workDir: string): SlowFlush | { unavailable: string } {
  const library = join(workDir, 'slow-flush.so');
  const delayFile = join(workDir, 'flush-delay');
  try {
    execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', library, SOURCE, '-ldl', '-lpthread'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    return { unavailable: `the flush-delay shim could not be built with gcc (${(error as Error).message.split('\n')[0]}); install gcc and libc6-dev` };
  }
  const setDelay = (microseconds: number): void => {
    const value = Buffer.alloc(4);
    value.writeInt32LE(Math.round(microseconds));
    writeFileSync(delayFile, value); // same inode: the processes' mappings see the new value
  };
  setDelay(0);
  return { env: { LD_PRELOAD: library, ANVIL_FLUSH_DELAY_FILE: delayFile }, setDelay };
}

/**
 * Median time of a 300-byte append with O_DSYNC in `dir` (µs), measured by a Node process started with `env`: what one
 * flush costs on this disk, or on the slowed one when `env` puts the process on the shim (proving it applies).
 */
export function measureFlush(dir: string, env: Record<string, string> = {}, count = 200): number {
  const script = `
    const fs = require('node:fs');
    const path = ${JSON.stringify(join(dir, 'flush-probe'))};
    const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND | fs.constants.O_DSYNC);
    const line = Buffer.alloc(300, 'x');
    const times = [];
    for (let i = 0; i < ${count}; i++) { const t = performance.now(); fs.writeSync(fd, line); times.push((performance.now() - t) * 1000); }
    fs.closeSync(fd); fs.unlinkSync(path);
    times.sort((a, b) => a - b);
    console.log(times[Math.floor(times.length / 2)]);`;
  return Number(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_OPTIONS: '', ...env }, encoding: 'utf8' }).trim());
}
