// `node shared/dist/db/migrate-cli.js` (or `npx tsx --conditions=anvil-source shared/src/db/migrate-cli.ts`): applies the install-history
// migrations and exits; what the Helm pre-install/pre-upgrade hook Job runs. Uses DATABASE_URL (or --database-url);
// without one, the embedded database in DATA_DIR / --data-dir. Exit code 0 when the schema is current.
import { parseArgs } from 'node:util';
import { createLogger } from '../logging.js';
import { migrate } from './migrate.js';
import { openDatabase } from './open.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      'wait-timeout-seconds': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('usage: migrate-cli [--database-url URL (DATABASE_URL)] [--data-dir DIR (DATA_DIR)] [--wait-timeout-seconds N]\n');
    return 0;
  }
  const log = createLogger('history-migrate');
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  const dataDir = values['data-dir'] ?? process.env.DATA_DIR ?? '/var/lib/anvil/history';
  const wait = Number(values['wait-timeout-seconds'] ?? 900);
  if (!Number.isFinite(wait) || wait <= 0) throw new Error('--wait-timeout-seconds must be a positive number');
  const db = await openDatabase({ databaseUrl, dataDir, poolSize: 2, applicationName: 'anvil-migrate', log });
  try {
    const result = await migrate(db, { log, waitTimeoutMs: wait * 1000 });
    log.info({ database: db.describe, applied: result.applied, current: result.current }, 'history database schema is current');
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
