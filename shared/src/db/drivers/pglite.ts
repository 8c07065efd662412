// The embedded database: PGlite (PostgreSQL compiled to WebAssembly) in a data directory, used when no
// DATABASE_URL is given, so the demo and a single-node install need no database server. One connection; PGlite
// runs transactions one at a time, so serialization failures cannot happen here.
//
// Memory is what limits this driver (the boot-server runs in a pod with a memory limit): a new data directory is
// unpacked from a prebuilt template instead of running PGlite's initdb, and PostgreSQL runs with small buffers
// (pglite-template.ts says why; docs/benchmarks.md, "Memory", has the numbers).
import { mkdirSync, statSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import type { Logger } from '../../logging.js';
import type { Db, SqlDatabase } from '../database.js';
import { pgliteTransactionDb } from './drizzle-adapter.js';
import { defaultTemplatePath, isInitialised, seedFromTemplate, settingsArgs } from './pglite-template.js';

export interface PgliteDriverOptions {
  /** A directory (created if missing), or 'memory://' for a throwaway in-memory database (tests). */
  dataDir: string;
  /**
   * The template a new data directory is unpacked from (default: defaultTemplatePath()); false runs PGlite's own
   * initdb, as does a template that does not exist (with a warning: that first start needs about 1.1 GB).
   */
  template?: string | false;
  log?: Logger;
}

export async function openPglite(opts: PgliteDriverOptions): Promise<SqlDatabase> {
  const inMemory = opts.dataDir === 'memory://';
  if (!inMemory) {
    mkdirSync(opts.dataDir, { recursive: true });
    if (!isInitialised(opts.dataDir)) await seed(opts.dataDir, opts.template ?? defaultTemplatePath(), opts.log);
  }
  const settings = { startParams: [...PGlite.defaultStartParams, ...settingsArgs()], initDbStartParams: settingsArgs() };
  const client = await PGlite.create(inMemory ? settings : { ...settings, dataDir: opts.dataDir });
  const db = drizzle({ client });
  return {
    kind: 'pglite',
    describe: inMemory ? 'embedded (in memory)' : `embedded (${opts.dataDir})`,
    transaction<T>(fn: (tx: Db) => Promise<T>, txOpts: { readOnly?: boolean } = {}): Promise<T> {
      return db.transaction((tx) => fn(pgliteTransactionDb(tx)), { isolationLevel: 'serializable', accessMode: txOpts.readOnly ? 'read only' : 'read write' });
    },
    async exec(statement: string): Promise<void> {
      await client.exec(statement);
    },
    async close(): Promise<void> {
      if (!client.closed) await client.close();
    },
  };
}

async function seed(dataDir: string, template: string | false, log: Logger | undefined): Promise<void> {
  if (template === false) return;
  if (!statSync(template, { throwIfNoEntry: false })?.isFile()) {
    log?.warn({ dataDir, template }, 'no embedded database template: PGlite runs initdb itself, which needs about 1.1 GB of memory for this first start (build one with pglite-template-cli, or set ANVIL_PGLITE_TEMPLATE)');
    return;
  }
  const { files, bytes } = await seedFromTemplate(dataDir, template);
  log?.info({ dataDir, template, files, bytes }, 'new embedded database unpacked from its template');
}
