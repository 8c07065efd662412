// anvil's TFTP server on its own, as the boot-server runs it (tftp-wiring.ts) minus the Kubernetes side, so the
// TFTP benchmarks compare TFTP servers only. Logs at info, as in production (one line per transfer).
// --max-sessions-per-client defaults to --max-sessions: the storm and throughput clients all come from 127.0.0.1.
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { TftpServer } from '@anvil/boot-server/src/tftp/index.js';
import { createLogger } from '@anvil/core/logging';

const { values } = parseArgs({ options: { port: { type: 'string' }, root: { type: 'string' }, 'max-sessions': { type: 'string' }, 'max-sessions-per-client': { type: 'string' }, host: { type: 'string' } } });
const log = createLogger('boot-server', process.env.LOG_LEVEL ?? 'info');
const server = new TftpServer({
  host: values.host ?? '127.0.0.1',
  port: Number(values.port ?? 0),
  root: values.root,
  maxSessions: Number(values['max-sessions'] ?? 256),
  maxSessionsPerClient: Number(values['max-sessions-per-client'] ?? values['max-sessions'] ?? 256),
  registry: new Registry(),
  log: log.child({ component: 'tftp' }),
});
await server.start();
const stop = (): void => void server.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
