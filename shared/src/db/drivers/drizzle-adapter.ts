// Where the drivers' drizzle databases become the store's `Db` (database.ts): drizzle's driver-independent
// PgDatabase, which the store is written against. Each driver's database and transaction is a PgDatabase of its own
// query-result type, so the conversion is a plain (checked) widening, no cast: should a drizzle upgrade break that,
// it fails to compile here, in one place, rather than in each driver.
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { PgliteTransaction } from 'drizzle-orm/pglite';
import type { Db } from '../database.js';

/** Drivers use drizzle without a relational schema. */
type NoSchema = Record<string, never>;

/** A node-postgres drizzle database on one pooled connection (pg.ts) as the store's Db. */
export function nodePgDb(db: NodePgDatabase<NoSchema>): Db {
  return db;
}

/** A PGlite drizzle transaction (pglite.ts) as the store's Db. */
export function pgliteTransactionDb(tx: PgliteTransaction<NoSchema, ExtractTablesWithRelations<NoSchema>>): Db {
  return tx;
}
