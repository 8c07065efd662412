// The webhook anchor: the plain way to accept an event durably, a Node http server that parses the JSON body, writes
// it to a file and fsyncs once per request (no group commit) before answering 200, as a hand-written receiver would.
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, file: { type: 'string' } } });
const fh = await open(values.file!, 'a');
const server = createServer((req, res) => {
  if (req.method !== 'POST') return void res.writeHead(405).end();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let event: unknown;
    try {
      event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return void res.writeHead(400).end();
    }
    void (async () => {
      await fh.write(`${JSON.stringify({ receivedAt: new Date().toISOString(), path: req.url, event })}\n`);
      await fh.datasync();
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"accepted":true}');
    })().catch(() => res.writeHead(500).end());
  });
});
server.listen(Number(values.port), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => void fh.close().then(() => process.exit(0))));
