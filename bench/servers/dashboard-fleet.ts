// The dashboard's server for `npm run bench -- --only dashboard`, in a process of its own so its CPU and memory are
// measured apart from the browsers: HOSTS fake hosts (the host source the operator's informer feeds, in memory),
// the real router, authorizer fake (a fixed token). A control port changes a host (as an informer event would) and
// reports the process's CPU and RSS.
//   node --conditions=anvil-source --import tsx bench/servers/dashboard-fleet.ts HOSTS ASSETS_DIR
// prints {"port": P, "control": C} on stdout once listening.
import { createServer } from 'node:http';
import pino from 'pino';
import { serveDashboard } from '@anvil/dashboard';
import { FakeAuthorizer, FakeHostSource, fakeHost } from '@anvil/dashboard/src/server/testing/fakes.js';

const STATES = ['Provisioned', 'Provisioned', 'Provisioned', 'Ready', 'Installing', 'Failed', 'Pending'];
const count = Number(process.argv[2] ?? 10_000);
const assetsDir = process.argv[3]!;
const hosts = new FakeHostSource(
  Array.from({ length: count }, (_, i) => fakeHost(`rack-${String(i % 20).padStart(2, '0')}`, `node-${String(i).padStart(5, '0')}`, { state: STATES[i % STATES.length]!, labels: { rack: `r${i % 20}` } })),
);
const authorizer = new FakeAuthorizer({ 'bench-token': { username: 'bench', groups: [] } }, { bench: ['*'] });
const server = await serveDashboard({ port: 0, host: '127.0.0.1', hosts, authorizer, log: pino({ level: 'warn' }), assetsDir, heartbeatMs: 5000 });

const control = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/change') {
    const host = fakeHost('rack-00', 'node-00000', { state: 'Installing', phase: url.searchParams.get('phase') ?? 'x', attempt: 2, labels: { rack: 'r0' } });
    host.metadata.resourceVersion = String(Date.now());
    hosts.put(host);
    return void res.end('ok');
  }
  if (url.pathname === '/stats') {
    const cpu = process.cpuUsage();
    return void res.end(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, rss: process.memoryUsage().rss }));
  }
  res.writeHead(404).end();
});
control.listen(0, '127.0.0.1', () => {
  const address = control.address();
  process.stdout.write(`${JSON.stringify({ port: server.port, control: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => {
  control.close();
  void server.close().then(() => process.exit(0));
});
