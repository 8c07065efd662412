// The embedded database: PGlite (PostgreSQL compiled to WebAssembly) in a data directory, used when no
// DATABASE_URL is given, so the demo and a single-node install need no database server. One connection; PGlite
// runs transactions one at a time, so serialization failures cannot happen here.
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import type { Db, SqlDatabase } from '../database.js';

export interface PgliteDriverOptions {
  /** A directory (created if missing), or 'memory://' for a throwaway in-memory database (tests). */
  dataDir: string;
}

export async function openPglite(opts: PgliteDriverOptions): Promise<SqlDatabase> {
  const inMemory = opts.dataDir === 'memory://';
  if (!inMemory) mkdirSync(opts.dataDir, { recursive: true });
  const client = await PGlite.create(inMemory ? {} : { dataDir: opts.dataDir });
  const db = drizzle({ client });
  return {
    kind: 'pglite',
    describe: inMemory ? 'embedded (in memory)' : `embedded (${opts.dataDir})`,
    transaction<T>(fn: (tx: Db) => Promise<T>, txOpts: { readOnly?: boolean } = {}): Promise<T> {
      return db.transaction((tx) => fn(tx as unknown as Db), { isolationLevel: 'serializable', accessMode: txOpts.readOnly ? 'read only' : 'read write' });
    },
    async exec(statement: string): Promise<void> {
      await client.exec(statement);
    },
    async close(): Promise<void> {
      if (!client.closed) await client.close();
    },
  };
}
