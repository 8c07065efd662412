// Tasks (PVE's forked workers): a real UPID, work that runs asynchronously for a configurable time, holds the VM's
// lock and can fail, and a log that ends in "TASK OK" or "TASK ERROR: <message>". Tests can fail, hold or slow
// down the tasks of a type.
import { randomInt } from 'node:crypto';
import { lockMessage, sleep, VmLocks } from './locks.js';

export interface SimTask {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
  log: string[];
}

export type TaskLog = (line: string) => void;
/** The task's work: `wait` sleeps for the task type's duration (the time the real work would take). */
export type TaskWork = (log: TaskLog, wait: () => Promise<void>) => Promise<void> | void;

export interface TaskOptions {
  /** The VM whose lock the task holds while it runs. */
  lockVmid?: number;
  /** Cleanup after a failure (best effort, as in PVE). */
  onFailure?: () => void;
}

export interface TaskRunnerOptions {
  /** Default duration of a task (ms of real time). */
  defaultDurationMs: number;
  /** Per task type, e.g. { download: 200 }. */
  durations?: Record<string, number>;
  lockTimeoutMs: number;
}

interface TaskFault {
  type: string;
  message?: string;
  times: number;
}

const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');

export class TaskRunner {
  readonly tasks = new Map<string, SimTask>();
  readonly locks: VmLocks;
  private readonly durations: Record<string, number>;
  private readonly faults: TaskFault[] = [];
  private readonly holds = new Map<string, { promise: Promise<void>; release: () => void }>();
  private pidCounter = randomInt(10_000, 3_000_000);
  private readonly bootTicks = randomInt(1_000_000, 90_000_000);

  constructor(private readonly node: string, private readonly options: TaskRunnerOptions) {
    this.durations = options.durations ?? {};
    this.locks = new VmLocks(options.lockTimeoutMs);
  }

  /** Starts a task and returns its UPID: UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>: */
  start(type: string, id: string, user: string, work: TaskWork, options: TaskOptions = {}): string {
    const pid = this.pidCounter++;
    const pstart = this.bootTicks + Math.floor(process.uptime() * 100);
    const starttime = Math.floor(Date.now() / 1000);
    const upid = `UPID:${this.node}:${hex8(pid)}:${hex8(pstart)}:${hex8(starttime)}:${type}:${id}:${user}:`;
    const task: SimTask = { upid, node: this.node, pid, pstart, starttime, type, id, user, status: 'running', log: [] };
    this.tasks.set(upid, task);
    const log = (line: string) => task.log.push(line);
    const duration = this.durations[type] ?? this.options.defaultDurationMs;
    const run = async () => {
      await sleep(1);
      if (options.lockVmid !== undefined) await this.locks.acquire(options.lockVmid, upid);
      const fault = this.takeFault(type);
      if (fault) {
        await sleep(Math.min(duration, 5));
        throw new Error(fault.message ?? lockMessage(id || options.lockVmid || 0));
      }
      const hold = this.holds.get(type);
      if (hold) await hold.promise;
      await work(log, () => sleep(duration));
    };
    void run()
      .then(
        () => {
          log('TASK OK');
          task.exitstatus = 'OK';
        },
        (err: unknown) => {
          const message = String((err as Error).message ?? err).replace(/\s+$/, '');
          try {
            options.onFailure?.();
          } catch {
            // cleanup is best effort, as in PVE
          }
          log(`TASK ERROR: ${message}`);
          task.exitstatus = message;
        },
      )
      .finally(() => {
        if (options.lockVmid !== undefined) this.locks.release(options.lockVmid, upid);
        task.status = 'stopped';
      });
    return upid;
  }

  /** The next `times` tasks of this type fail with `message` (default: the lock timeout for their VMID). */
  fail(type: string, options: { message?: string; times?: number } = {}): void {
    this.faults.push({ type, message: options.message, times: options.times ?? 1 });
  }

  /** Forgets the failures still queued for tasks of this type. */
  clearFailures(type: string): void {
    for (let i = this.faults.length - 1; i >= 0; i--) if (this.faults[i]!.type === type) this.faults.splice(i, 1);
  }

  /** Keeps tasks of this type running until the returned function is called. */
  hold(type: string): () => void {
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    const hold = {
      promise,
      release: () => {
        this.holds.delete(type);
        release();
      },
    };
    this.holds.set(type, hold);
    return hold.release;
  }

  releaseAll(): void {
    for (const h of this.holds.values()) h.release();
  }

  setDuration(type: string, ms: number): void {
    this.durations[type] = ms;
  }

  running(): SimTask[] {
    return [...this.tasks.values()].filter((t) => t.status === 'running');
  }

  /** Resolves when no task is running. */
  async idle(): Promise<void> {
    while (this.running().length > 0) await sleep(5);
  }

  private takeFault(type: string): TaskFault | undefined {
    const i = this.faults.findIndex((f) => f.type === type);
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    if (--f.times <= 0) this.faults.splice(i, 1);
    return f;
  }
}
