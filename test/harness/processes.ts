// Runs anvil's own processes (boot-server, operator) from source, as the demo and the end-to-end tests do.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './control-plane.js';
import { embeddedTemplateEnv } from './pglite-template.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** How long a process started from sources may take to answer its health check. */
const START_TIMEOUT_MS = 120_000;

export interface RunningProcess {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly child: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
  logs(): string;
}

export interface BootServerOptions {
  kubeconfig: string;
  dir?: string;
  port?: number;
  /** Address to bind and advertise (default 127.0.0.1). */
  host?: string;
  tftpPort?: number;
  extraArgs?: string[];
  env?: Record<string, string>;
  /** A cgroup directory the process runs in from its first instruction (it joins before exec'ing node). */
  cgroup?: string;
}

/**
 * Starts boot-server/src/main.ts and waits until /healthz answers. Its embedded history starts from the cached template,
 * as in the image (ANVIL_PGLITE_TEMPLATE in `env` overrides). Reuse `dir` to restart with the same spool.
 */
export async function startBootServer(options: BootServerOptions): Promise<RunningProcess> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'anvil-boot-'));
  const port = options.port ?? (await freePort());
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host}:${port}`;
  const logFile = join(dir, `boot-server-${Date.now()}.log`);
  const fd = openSync(logFile, 'a');
  const [command, ...prefix] = options.cgroup ? ['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', options.cgroup, process.execPath] : [process.execPath];
  const child = spawn(
    command!,
    [
      ...prefix,
      '--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'boot-server', 'src', 'main.ts'),
      '--kubeconfig', options.kubeconfig,
      '--http-host', host, '--http-port', String(port), '--public-url', url,
      '--tftp-host', host, '--tftp-port', String(options.tftpPort ?? 0),
      '--asset-dir', join(dir, 'assets'), '--spool-dir', join(dir, 'spool'), '--data-dir', join(dir, 'history'),
      ...(options.extraArgs ?? []),
    ],
    { stdio: ['ignore', fd, fd], env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'debug', ...embeddedTemplateEnv(), ...options.env } },
  );
  closeSync(fd);
  const logs = () => readFileSync(logFile, 'utf8');
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  // Generous: on a busy 2-core machine, node + tsx + PGlite's WebAssembly alone took over 60 s to start.
  await untilUp('boot-server', child, `${url}/healthz`, logs, kill, options.dir === undefined ? dir : undefined);
  return { port, url, dir, child, logs, kill };
}

/**
 * Stops a running boot-server with `signal` (SIGTERM: graceful; SIGKILL: a crash) and starts it again on the same
 * port with the same spool, history and asset directories, as a restarted pod with its volume would be.
 */
export async function restartBootServer(previous: RunningProcess, signal: NodeJS.Signals, options: Omit<BootServerOptions, 'dir' | 'port'>): Promise<RunningProcess> {
  await previous.kill(signal);
  return startBootServer({ ...options, dir: previous.dir, port: previous.port });
}

export interface OperatorOptions {
  kubeconfig: string;
  /** Namespaces to watch (--namespace). */
  namespaces: string[];
  bootServerURL: string;
  dir?: string;
  extraArgs?: string[];
  env?: Record<string, string>;
}

/**
 * Starts operator/src/main.ts (leader election off, metrics on a free loopback port) and waits until /readyz answers.
 * Its stdout and stderr go to a file in `dir`: logs() returns every line it wrote.
 */
export async function startOperator(options: OperatorOptions): Promise<RunningProcess> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'anvil-operator-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, `operator-${Date.now()}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      '--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'operator', 'src', 'main.ts'),
      '--kubeconfig', options.kubeconfig, '--namespace', options.namespaces.join(','), '--leader-elect', 'false',
      '--metrics-host', '127.0.0.1', '--metrics-port', String(port), '--boot-server-url', options.bootServerURL,
      ...(options.extraArgs ?? []),
    ],
    { stdio: ['ignore', fd, fd], env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'debug', ...options.env } },
  );
  closeSync(fd);
  const logs = () => readFileSync(logFile, 'utf8');
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  await untilUp('operator', child, `${url}/readyz`, logs, kill, options.dir === undefined ? dir : undefined);
  return { port, url, dir, child, logs, kill };
}

/**
 * Waits until `probeURL` answers 2xx. A process that exits or misses the deadline is killed (one left behind would keep
 * jest from exiting) and the temporary directory made for it, if any, is removed: the error carries its log.
 */
async function untilUp(name: string, child: ChildProcess, probeURL: string, logs: () => string, kill: (s?: NodeJS.Signals) => Promise<void>, ownDir: string | undefined): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const fail = async (message: string): Promise<never> => {
    const log = logs();
    await kill('SIGKILL');
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    throw new Error(`${message}:\n${log}`);
  };
  for (;;) {
    if (child.exitCode !== null) return fail(`${name} exited with ${child.exitCode}`);
    try {
      if ((await fetch(probeURL)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) return fail(`${name} did not start within ${START_TIMEOUT_MS / 1000} s`);
    await sleep(100);
  }
}
