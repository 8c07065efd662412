// Runs render jobs in worker processes, so that a hostile or broken template can neither hang nor exhaust the
// operator: each worker has a heap limit (--max-old-space-size), each render a time limit (the worker is killed when
// it runs out), and the sandbox inside the worker limits output size and refuses the known ways out of nunjucks.
//
// Why processes and not worker_threads: a worker thread's resourceLimits do not contain every out-of-memory. When one
// allocation is larger than what is left of the worker's heap (a big array or string built in one step, which a
// template can do with a few doubling concat() calls), V8 aborts the whole process with "FATAL ERROR: Reached heap
// limit", taking the operator down with it (nodejs/node#47224, reproduced here on Node 24). A child process that runs
// out of memory dies alone, and the operator reports the render as failed.
//
// Workers are kept and reused for later renders; one that timed out or died is replaced by a fresh one on the next
// render, and idle workers exit after a while. Measured on the development machine (2 cores, Node 24, compiled
// JavaScript): a new worker's first render takes 55-80 ms (process start, loading nunjucks, compiling), a warm render
// 0.5 ms of which 0.1 ms is the IPC round trip, and renderBootConfig with its validation 1.7 ms per host (from
// TypeScript sources, as in the tests, a worker starts in ~140 ms). Renders happen once per host change, but an
// operator restart renders every host again, so starting a process per render (the strictest isolation) would cost
// 30-40 times the work itself; reuse is safe because templates cannot change anything that outlives their render
// (the sandbox offers no mutating method and each job gets a fresh nunjucks environment).
import { spawn, type ChildProcess } from 'node:child_process';
import { RenderError, type RenderErrorKind, type TemplateField } from './errors.js';
import type { RenderJob, RenderJobResult } from './sandbox.js';
import type { RenderRequest, RenderWorkerMessage } from './render-worker.js';

export interface RendererOptions {
  /** Worker processes rendering in parallel (default 1). */
  poolSize?: number;
  /** Time limit of one render in milliseconds, not counting worker start-up (default 2000). */
  timeoutMs?: number;
  /** Heap limit of a worker in MiB (default 128). */
  memoryMb?: number;
  /** An idle worker exits after this many milliseconds (default 60000). */
  idleTimeoutMs?: number;
  /** Time a worker may take to start (default 30000: the first start on a loaded machine is slow). */
  startTimeoutMs?: number;
}

/** Renders the files of a job; rejects with a RenderError. */
export interface TemplateRenderer {
  render(job: RenderJob, options?: { timeoutMs?: number }): Promise<Partial<Record<TemplateField, string>>>;
  close(): Promise<void>;
}

export const DEFAULT_RENDERER_OPTIONS: Required<RendererOptions> = {
  poolSize: 1,
  timeoutMs: 2000,
  memoryMb: 128,
  idleTimeoutMs: 60_000,
  startTimeoutMs: 30_000,
};

// The worker is started through this bootstrap so that the same code runs from compiled JavaScript (dist) and from
// TypeScript sources (tests, tsx): for .ts sources it lets relative `.js` imports fall back to the `.ts` file, and
// Node strips the types.
const BOOTSTRAP = `
import { registerHooks } from 'node:module';
const entry = process.argv[1];
if (entry.endsWith('.ts')) {
  registerHooks({
    resolve(specifier, context, next) {
      try {
        return next(specifier, context);
      } catch (err) {
        if (/^\\.\\.?\\//.test(specifier) && specifier.endsWith('.js')) return next(specifier.slice(0, -3) + '.ts', context);
        throw err;
      }
    },
  });
}
await import(entry);
`;

const WORKER_ENTRY = new URL(`./render-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
/** From sources, workspace packages (@anvil/core) resolve to their TypeScript files (package.json exports). */
const WORKER_CONDITIONS = WORKER_ENTRY.endsWith('.ts') ? ['--conditions=anvil-source'] : [];

/** What a worker wrote to stderr before dying is kept (the end of it) to tell an out-of-memory from a crash. */
const STDERR_TAIL = 4096;

interface Pending {
  job: RenderJob;
  timeoutMs: number;
  resolve: (outputs: Partial<Record<TemplateField, string>>) => void;
  reject: (err: RenderError) => void;
}

interface Slot {
  child: ChildProcess;
  state: 'starting' | 'idle' | 'busy' | 'dead';
  stderr: string;
  current?: Pending & { id: number };
  /** The start-up, render or idle timer, whichever applies to the state. */
  timer?: NodeJS.Timeout;
}

export class ProcessRenderer implements TemplateRenderer {
  private readonly options: Required<RendererOptions>;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: RendererOptions = {}) {
    this.options = { ...DEFAULT_RENDERER_OPTIONS, ...options };
  }

  render(job: RenderJob, options: { timeoutMs?: number } = {}): Promise<Partial<Record<TemplateField, string>>> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.queue.push({ job, timeoutMs: options.timeoutMs ?? this.options.timeoutMs, resolve, reject });
      this.pump();
    });
  }

  /** Stops every worker; renders in progress or queued fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(closedError());
    await Promise.all([...this.slots].map((slot) => this.kill(slot, 'render', 'the renderer is closed')));
  }

  /** Worker processes currently running (for tests and metrics). */
  get workerCount(): number {
    return this.slots.length;
  }

  private pump(): void {
    while (this.queue.length) {
      const slot = this.slots.find((s) => s.state === 'idle');
      if (slot) {
        this.assign(slot, this.queue.shift()!);
        continue;
      }
      if (this.slots.filter((s) => s.state === 'starting').length < this.queue.length && this.slots.length < this.options.poolSize) {
        this.spawn();
        continue;
      }
      return; // the jobs wait for a worker to become ready or idle
    }
  }

  private spawn(): void {
    const child = spawn(
      process.execPath,
      [`--max-old-space-size=${this.options.memoryMb}`, '--max-semi-space-size=16', ...WORKER_CONDITIONS, '--input-type=module', '-e', BOOTSTRAP, WORKER_ENTRY],
      {
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        env: {}, // nothing of the operator's environment
        serialization: 'advanced',
      },
    );
    const slot: Slot = { child, state: 'starting', stderr: '' };
    this.slots.push(slot);
    slot.timer = setTimeout(() => void this.kill(slot, 'render', 'the render worker did not start in time'), this.options.startTimeoutMs);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      slot.stderr = (slot.stderr + chunk).slice(-STDERR_TAIL);
    });
    child.on('message', (msg: RenderWorkerMessage) => this.onMessage(slot, msg));
    child.on('error', (err) => this.onDeath(slot, 'render', `the render worker failed: ${err.message}`));
    child.on('exit', (code, signal) => {
      const oom = /heap out of memory|Allocation failed|Reached heap limit/.test(slot.stderr);
      this.onDeath(
        slot,
        oom ? 'memory' : 'render',
        oom
          ? `rendering ran out of memory (the limit is ${this.options.memoryMb} MiB)`
          : `the render worker exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${String(code)}`})`,
      );
    });
  }

  private onMessage(slot: Slot, msg: RenderWorkerMessage): void {
    if (slot.state === 'dead') return;
    if (msg.type === 'ready') {
      if (slot.state !== 'starting') return;
      clearTimeout(slot.timer);
      this.setIdle(slot);
      this.pump();
      return;
    }
    const current = slot.current;
    if (!current || current.id !== msg.id) return;
    clearTimeout(slot.timer);
    slot.current = undefined;
    this.setIdle(slot);
    settle(current, msg.result);
    this.pump();
  }

  private assign(slot: Slot, pending: Pending): void {
    clearTimeout(slot.timer);
    slot.state = 'busy';
    setRef(slot.child, true);
    const id = this.nextId++;
    slot.current = { ...pending, id };
    slot.timer = setTimeout(() => {
      void this.kill(slot, 'timeout', `rendering took longer than the time limit of ${pending.timeoutMs} ms`);
      this.pump();
    }, pending.timeoutMs);
    slot.child.send({ id, job: pending.job } satisfies RenderRequest);
  }

  private setIdle(slot: Slot): void {
    slot.state = 'idle';
    // an idle worker does not keep the operator (or a test run) alive
    setRef(slot.child, false);
    slot.timer = setTimeout(() => void this.kill(slot, 'render', 'idle'), this.options.idleTimeoutMs);
    slot.timer.unref();
  }

  /** A worker died by itself (out of memory, crash): its render fails, and queued jobs get a new worker. */
  private onDeath(slot: Slot, kind: RenderErrorKind, message: string): void {
    if (slot.state === 'dead') return;
    const wasStarting = slot.state === 'starting';
    this.remove(slot, kind, message);
    // a worker that cannot even start would be restarted forever: fail the oldest waiting job instead
    if (wasStarting) this.queue.shift()?.reject(new RenderError(kind, [{ message: `the render worker did not start: ${message}` }]));
    this.pump();
  }

  private async kill(slot: Slot, kind: RenderErrorKind, message: string): Promise<void> {
    if (slot.state === 'dead') return;
    const wasStarting = slot.state === 'starting';
    this.remove(slot, kind, message);
    if (wasStarting && !this.closed) this.queue.shift()?.reject(new RenderError(kind, [{ message }]));
    const { child } = slot;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    setRef(child, true); // wait for it even when nothing else keeps the process alive
    child.kill('SIGKILL');
    await exited;
  }

  private remove(slot: Slot, kind: RenderErrorKind, message: string): void {
    slot.state = 'dead';
    clearTimeout(slot.timer);
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    const current = slot.current;
    slot.current = undefined;
    if (current) current.reject(new RenderError(kind, [{ message }]));
  }
}

/** Whether the child process, its IPC channel and its stderr pipe keep the event loop alive. */
function setRef(child: ChildProcess, ref: boolean): void {
  const handles = [child, child.channel, child.stderr] as ({ ref?: () => void; unref?: () => void } | null | undefined)[];
  for (const handle of handles) {
    if (ref) handle?.ref?.();
    else handle?.unref?.();
  }
}

function closedError(): RenderError {
  return new RenderError('render', [{ message: 'the renderer is closed' }]);
}

function settle(pending: Pending, result: RenderJobResult): void {
  if (result.ok) {
    pending.resolve(result.outputs);
    return;
  }
  const kind: RenderErrorKind = result.problems.some((p) => p.kind === 'output-limit') ? 'output-limit' : 'render';
  pending.reject(new RenderError(kind, result.problems.map(({ kind: _kind, ...problem }) => problem)));
}

let shared: ProcessRenderer | undefined;

/** A process-wide renderer with the default options, started on first use. */
export function defaultRenderer(): ProcessRenderer {
  shared ??= new ProcessRenderer();
  return shared;
}
