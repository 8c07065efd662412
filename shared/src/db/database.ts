// The port between the history store and a database driver (drivers/pg.ts for PostgreSQL/CockroachDB,
// drivers/pglite.ts for the embedded database). Domain code talks drizzle-orm's pg-core query builder only.
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Db = PgDatabase<PgQueryResultHKT, any>;

export type DatabaseKind = 'pg' | 'pglite';

export interface SqlDatabase {
  readonly kind: DatabaseKind;
  /** For logs: where the data is (no credentials). */
  readonly describe: string;
  /**
   * Runs fn once inside a SERIALIZABLE transaction on one connection: COMMIT when it resolves, ROLLBACK when it
   * throws (the error is rethrown untouched, so callers can retry on SQLSTATE 40001).
   */
  transaction<T>(fn: (tx: Db) => Promise<T>, opts?: { readOnly?: boolean }): Promise<T>;
  /** Runs one statement outside an explicit transaction (DDL in the migrator). */
  exec(statement: string): Promise<void>;
  close(): Promise<void>;
}

/** Rows of a raw `db.execute(sql...)`: both drivers return `{ rows }`. */
export const rowsOf = <T>(result: unknown): T[] => ((result as { rows?: T[] }).rows ?? []);
