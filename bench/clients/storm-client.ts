// The boot-storm load generator, run in its own process (never inside the server's): N TFTP clients start at once,
// each fetching one iPXE binary with the options a PXE ROM sends (blksize, tsize), lock-step, retransmitting after
// --timeout-ms up to --retries times, as a ROM does. Prints one JSON line with the outcome of every client.
import { parseArgs } from 'node:util';
import { tftpGet } from '../../test/tftp/client.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    clients: { type: 'string' },
    files: { type: 'string' },
    sizes: { type: 'string' },
    blksize: { type: 'string' },
    'timeout-ms': { type: 'string' },
    retries: { type: 'string' },
  },
});
const port = Number(values.port);
const clients = Number(values.clients);
const files = (values.files ?? '').split(',');
const sizes = (values.sizes ?? '').split(',').map(Number);
const blksize = Number(values.blksize ?? 1468);
const timeoutMs = Number(values['timeout-ms'] ?? 1000);
const retries = Number(values.retries ?? 5);

interface Outcome {
  ok: boolean;
  ms: number;
  error?: string;
}

const t0 = performance.now();
const outcomes = await Promise.all(
  Array.from({ length: clients }, async (_, i): Promise<Outcome> => {
    const file = files[i % files.length]!;
    const expected = sizes[i % sizes.length]!;
    const start = performance.now();
    try {
      const r = await tftpGet({ port, file, options: { blksize, tsize: 0 }, timeoutMs, retries });
      const ms = performance.now() - start;
      if (r.data.length !== expected) return { ok: false, ms, error: `short file: ${r.data.length} of ${expected} bytes` };
      return { ok: true, ms };
    } catch (err) {
      return { ok: false, ms: performance.now() - start, error: (err as Error).message.replace(/\d+/g, 'N') };
    }
  }),
);
const wallMs = performance.now() - t0;
const errors: Record<string, number> = {};
for (const o of outcomes) if (!o.ok) errors[o.error!] = (errors[o.error!] ?? 0) + 1;
process.stdout.write(
  `${JSON.stringify({ clients, completed: outcomes.filter((o) => o.ok).length, wallMs, durationsMs: outcomes.filter((o) => o.ok).map((o) => o.ms), errors })}\n`,
);
