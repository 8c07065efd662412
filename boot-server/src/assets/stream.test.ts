// A client that asks for an asset while it is being downloaded gets the bytes already on disk at once, and the
// response only ends once the whole file matched its sha256; a mismatch or an upstream failure truncates it.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { toSecret } from '@anvil/core/bootconfig';
import { installConfig, serveBootApp, type ServedBootApp } from '../http/testing/serve-boot-app.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const KERNEL = Buffer.from(Array.from({ length: 600_000 }, (_, i) => (i * 7) % 251));
const INITRD = Buffer.from('the initrd upstream really has');
const ISO = Buffer.alloc(200_000, 3);

/** An upstream body the test feeds by hand. */
class HeldBody {
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  readonly stream = new ReadableStream<Uint8Array>({ start: (c) => void (this.controller = c) });
  push(bytes: Uint8Array): void {
    this.controller.enqueue(new Uint8Array(bytes));
  }
  end(): void {
    this.controller.close();
  }
  fail(message: string): void {
    this.controller.error(new Error(message));
  }
}

/** Reads from `reader` until at least `atLeast` bytes came (or the body ended). */
async function readSome(reader: ReadableStreamDefaultReader<Uint8Array>, atLeast: number): Promise<{ bytes: Buffer; done: boolean }> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < atLeast) {
    const { value, done } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks), done: true };
    chunks.push(Buffer.from(value));
    length += value.length;
  }
  return { bytes: Buffer.concat(chunks), done: false };
}

describe('assets: streaming while the download runs', () => {
  let app: ServedBootApp;
  const upstream = new Map<string, { body: HeldBody; length?: number }>();
  const fetched: string[] = [];
  const serve = (name: string, length?: number): HeldBody => {
    const body = new HeldBody();
    upstream.set(`http://mirror.test/${name}`, { body, ...(length !== undefined ? { length } : {}) });
    return body;
  };

  beforeAll(async () => {
    app = await serveBootApp({
      streamGraceMs: 20,
      fetchImpl: async (url) => {
        fetched.push(String(url));
        const held = upstream.get(String(url));
        if (!held) return new Response('gone', { status: 404 });
        return new Response(held.body.stream, { headers: held.length !== undefined ? { 'content-length': String(held.length) } : {} });
      },
    });
    app.index.upsert(
      toSecret(
        installConfig('52:54:00:3c:00:02', 'tok-streaming-0123456789', {
          kernel: { url: 'http://mirror.test/vmlinuz', sha256: sha(KERNEL) },
          initrd: { url: 'http://mirror.test/initrd', sha256: sha(INITRD) },
          iso: { url: 'http://mirror.test/iso', sha256: sha(ISO) },
        }),
        'lab',
      ),
    );
  });
  afterAll(async () => app.close());

  it('sends the bytes on disk with the upstream length, holds the last one until verified, then serves the cache', async () => {
    const upstreamBody = serve('vmlinuz', KERNEL.length);
    upstreamBody.push(KERNEL.subarray(0, 100_000));
    const res = await fetch(`${app.base}/assets/${sha(KERNEL)}/vmlinuz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(KERNEL.length));
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const reader = res.body!.getReader();
    const first = await readSome(reader, 1);
    expect(sha(first.bytes)).toBe(sha(KERNEL.subarray(0, first.bytes.length)));
    // Every byte is upstream's now, but the download has not ended: the client gets all of them but the last.
    upstreamBody.push(KERNEL.subarray(100_000));
    const most = await readSome(reader, KERNEL.length - 1 - first.bytes.length);
    expect(first.bytes.length + most.bytes.length).toBe(KERNEL.length - 1);
    upstreamBody.end();
    const rest = await readSome(reader, Number.POSITIVE_INFINITY);
    expect(rest.done).toBe(true);
    expect(sha(Buffer.concat([first.bytes, most.bytes, rest.bytes]))).toBe(sha(KERNEL));
    expect(existsSync(join(app.assetDir, sha(KERNEL)))).toBe(true);

    const part = await fetch(`${app.base}/assets/${sha(KERNEL)}/vmlinuz`, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(KERNEL.subarray(10, 20));
    expect(fetched.filter((u) => u.endsWith('/vmlinuz'))).toHaveLength(1);
  });

  it('cuts the transfer short when the bytes do not match their sha256, and caches nothing', async () => {
    const wrong = Buffer.from('the initrd upstream REALLY has');
    const upstreamBody = serve('initrd', wrong.length);
    upstreamBody.push(wrong.subarray(0, 10));
    const res = await fetch(`${app.base}/assets/${sha(INITRD)}/initrd`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await readSome(reader, 1);
    expect(first.bytes).toEqual(wrong.subarray(0, first.bytes.length));
    upstreamBody.push(wrong.subarray(10));
    upstreamBody.end();
    await expect(readSome(reader, Number.POSITIVE_INFINITY)).rejects.toThrow();
    expect(readdirSync(app.assetDir).filter((f) => f.startsWith(sha(INITRD)))).toEqual([]);
    expect(app.logs).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringContaining('asset transfer cut short'), err: expect.stringContaining('checksum mismatch for http://mirror.test/initrd') }));
  });

  it('cuts a chunked transfer short when upstream fails, and a Range request waits for the verified file', async () => {
    const failing = serve('iso');
    failing.push(ISO.subarray(0, 50_000));
    const streamed = await fetch(`${app.base}/assets/${sha(ISO)}/iso`);
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-length')).toBeNull();
    const reader = streamed.body!.getReader();
    await readSome(reader, 1);
    failing.fail('connection reset by the mirror');
    await expect(readSome(reader, Number.POSITIVE_INFINITY)).rejects.toThrow();
    expect(readdirSync(app.assetDir).filter((f) => f.startsWith(sha(ISO)))).toEqual([]);

    const good = serve('iso', ISO.length);
    const ranged = fetch(`${app.base}/assets/${sha(ISO)}/iso`, { headers: { range: 'bytes=0-3' } });
    good.push(ISO);
    good.end();
    const part = await ranged;
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(ISO.subarray(0, 4));
  });
});
