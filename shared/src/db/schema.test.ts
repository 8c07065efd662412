import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { rowsOf, type SqlDatabase } from './database.js';
import { openPglite } from './drivers/pglite.js';
import { migrate } from './migrate.js';
import { MIGRATIONS, migrationChecksum } from './migrations.js';
import { historyTables } from './schema.js';

// The drizzle schema (what the code queries) and the migrations (what the database has) must agree.
describe('schema.ts matches the migrations', () => {
  let db: SqlDatabase;
  beforeAll(async () => {
    db = await openPglite({ dataDir: 'memory://' });
    await migrate(db);
  });
  afterAll(() => db.close());

  for (const table of Object.values(historyTables)) {
    const config = getTableConfig(table);
    it(`table ${config.name}: columns, types, nullability, indexes`, async () => {
      const { columns, indexes } = await db.transaction(async (tx) => ({
        columns: rowsOf<{ column_name: string; data_type: string; is_nullable: string }>(
          await tx.execute(sql`SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = ${config.name} ORDER BY ordinal_position`),
        ),
        indexes: rowsOf<{ indexname: string }>(await tx.execute(sql`SELECT indexname FROM pg_indexes WHERE tablename = ${config.name}`)).map((r) => r.indexname),
      }));
      const expected = config.columns.map((c) => ({ column_name: c.name, data_type: c.getSQLType(), is_nullable: c.notNull ? 'NO' : 'YES' }));
      expect(columns).toEqual(expected);
      expect(indexes.filter((i) => !i.endsWith('_pkey')).sort()).toEqual(config.indexes.map((i) => i.config.name).sort());
    });
  }

  it('gives every migration a stable checksum and increasing versions', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    // Whitespace changes do not change a checksum; content changes do.
    const m = MIGRATIONS[0]!;
    expect(migrationChecksum({ ...m, statements: m.statements.map((s) => `  ${s}\n`) })).toBe(migrationChecksum(m));
    expect(migrationChecksum({ ...m, statements: [...m.statements, 'SELECT 1'] })).not.toBe(migrationChecksum(m));
  });
});
