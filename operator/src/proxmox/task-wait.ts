// Following a PVE task to its end: poll its status, and for a failed task fetch the end of its log.
import { ProxmoxError } from './errors.js';
import type { TaskLogLine, TaskResult, TaskStatus, WaitOptions } from './ports.js';

/** The calls that read a task (ProxmoxClient has them). */
export interface TaskReader {
  taskStatus(upid: string): Promise<TaskStatus>;
  taskLog(upid: string, start?: number, limit?: number): Promise<{ lines: TaskLogLine[]; total: number }>;
  taskLogTail(upid: string, count?: number): Promise<string[]>;
}

/** The last `count` log lines (two calls: the first learns the total). */
export async function taskLogTail(api: Pick<TaskReader, 'taskLog'>, upid: string, count = 20): Promise<string[]> {
  const first = await api.taskLog(upid, 0, count);
  if (first.total <= count) return first.lines.map((l) => l.t);
  const rest = await api.taskLog(upid, first.total - count, count);
  return rest.lines.map((l) => l.t);
}

/** Polls until the task stopped; ok=false (with the log tail) for a failed task. */
export async function waitForTask(api: TaskReader, upid: string, options: WaitOptions = {}): Promise<TaskResult> {
  const interval = options.intervalMs ?? 1000;
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const status = await api.taskStatus(upid);
    if (status.status === 'stopped') {
      const exitStatus = status.exitstatus ?? 'unknown';
      const ok = exitStatus === 'OK' || exitStatus.startsWith('WARNINGS');
      const logTail = ok ? [] : await api.taskLogTail(upid, options.logLines ?? 20);
      return { upid, type: status.type, ok, exitStatus, logTail };
    }
    if (deadline !== undefined && Date.now() >= deadline) {
      throw new ProxmoxError({ code: 'unavailable', status: 0, pveMessage: `task ${upid} still running after ${options.timeoutMs} ms`, transient: true });
    }
    await sleep(interval, options.signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
