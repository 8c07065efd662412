// Processes for the benchmarks: servers started in their own process group (forking servers are stopped whole), a
// memory sampler over a process tree, and small waits. Every server binds to loopback only.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Server {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The command line, for the reproduce section. */
  readonly command: string;
  logs(): string;
  stop(): Promise<void>;
}

const started = new Set<Server>();

/** Starts a server; its output goes to `logFile`. Stopped with SIGTERM, then SIGKILL, to its whole process group. */
export function startServer(name: string, cmd: string, args: string[], options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string }): Server {
  const fd = openSync(options.logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached: true, env: options.env ?? process.env, cwd: options.cwd });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const server: Server = {
    name,
    child,
    pid: child.pid!,
    command: [cmd, ...args].map(shellQuote).join(' '),
    logs: () => readFileSync(options.logFile, 'utf8'),
    stop: async () => {
      started.delete(server);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const kill = (sig: NodeJS.Signals): void => {
        try {
          process.kill(-child.pid!, sig);
        } catch {
          // already gone
        }
      };
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      kill('SIGKILL'); // children of a forking server that outlived their parent
    },
  };
  started.add(server);
  return server;
}

/** Stops every server still running (on exit or after a failure). */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((s) => s.stop()));
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function waitTcp(port: number, host = '127.0.0.1', timeoutMs = 30_000, server?: Server): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server && server.child.exitCode !== null) throw new Error(`${server.name} exited with ${server.child.exitCode}:\n${server.logs().slice(-2000)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms${server ? `:\n${server.logs().slice(-2000)}` : ''}`);
    await sleep(50);
  }
}

/** Waits until a UDP port is bound (from /proc/net/udp): TFTP servers answer nothing before a request. */
export async function waitUdp(port: number, timeoutMs = 15_000, server?: Server): Promise<void> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server && server.child.exitCode !== null) throw new Error(`${server.name} exited with ${server.child.exitCode}:\n${server.logs().slice(-2000)}`);
    const table = readFileSync('/proc/net/udp', 'utf8');
    if (table.split('\n').some((l) => l.trim().split(/\s+/)[1]?.endsWith(`:${hex}`))) return;
    if (Date.now() > deadline) throw new Error(`nothing bound UDP port ${port}${server ? `:\n${server.logs().slice(-2000)}` : ''}`);
    await sleep(50);
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
    } catch {
      // gone
    }
  }
  return out;
}

export function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length && all.length < 5000; i++) all.push(...children(all[i]!));
  return all;
}

/** Resident memory of a process tree: RSS summed (counts shared pages once per process) and PSS summed (fair share). */
export function treeMemory(pid: number): { rssKiB: number; pssKiB: number; processes: number } {
  let rssKiB = 0;
  let pssKiB = 0;
  let processes = 0;
  for (const p of processTree(pid)) {
    try {
      const text = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      rssKiB += Number(/^Rss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
      pssKiB += Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
      processes++;
    } catch {
      // exited meanwhile
    }
  }
  return { rssKiB, pssKiB, processes };
}

/** Samples a process tree's memory every `intervalMs` until stopped; returns the peaks (MiB). */
export function memorySampler(pid: number, intervalMs = 100): { stop(): { peakRssMiB: number; peakPssMiB: number; peakProcesses: number } } {
  let peakRss = 0;
  let peakPss = 0;
  let peakProcs = 0;
  const sample = (): void => {
    const m = treeMemory(pid);
    peakRss = Math.max(peakRss, m.rssKiB);
    peakPss = Math.max(peakPss, m.pssKiB);
    peakProcs = Math.max(peakProcs, m.processes);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return { peakRssMiB: peakRss / 1024, peakPssMiB: peakPss / 1024, peakProcesses: peakProcs };
    },
  };
}

export interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion, timing it (wall clock, including process start). */
export function exec(cmd: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Exec> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: options.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', env: options.env ?? process.env }, (err, stdout, stderr) => {
      const raw = (err as { code?: unknown } | null)?.code;
      resolve({ code: err ? (typeof raw === 'number' ? raw : null) : 0, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** Kills a child that is not a Server (a load generator) if it is still running. */
export function killChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat (clock ticks of 10 ms). */
export function processCpuSeconds(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The whole machine's CPU time so far from /proc/stat, in seconds: busy (everything but idle and iowait) and total. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = ticks.map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - n[3]! - n[4]!) / 100, total: total / 100 };
}

/** CPU seconds used so far by each live process of the tree under `rootPid` that `label` names (from its command line). */
export function treeCpu(rootPid: number, label: (cmdline: string) => string | undefined): Map<number, { label: string; seconds: number }> {
  const out = new Map<number, { label: string; seconds: number }>();
  for (const pid of processTree(rootPid)) {
    try {
      const name = label(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
      if (name) out.set(pid, { label: name, seconds: processCpuSeconds(pid) });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * CPU seconds each label's processes used between two treeCpu() snapshots, process by process (a process that
 * started meanwhile counts from 0; one that exited meanwhile is missing: its time since the first snapshot is lost).
 */
export function treeCpuDelta(before: Map<number, { label: string; seconds: number }>, after: Map<number, { label: string; seconds: number }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, { label, seconds }] of after) {
    const was = before.get(pid);
    out[label] = (out[label] ?? 0) + seconds - (was && was.label === label ? was.seconds : 0);
  }
  return out;
}
