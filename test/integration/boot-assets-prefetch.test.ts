// Boot assets are on their way before a machine asks for them (issue 20): the boot-server process, against a real
// API server, starts downloading a boot config's kernel and initrd as soon as the config is published; a machine that
// arrives while the download runs is sent bytes at once instead of waiting in silence; and bytes that do not match
// their sha256 never reach a client as a complete answer and are never cached. The upstream mirror is a local HTTP
// server on loopback that holds each first answer half-way until the test releases it, so nothing depends on timing.
import { jest } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { toSecret } from '@anvil/core/bootconfig';
import { CoreResources, type KubeClient } from '@anvil/core/kube';
import { installConfig } from '@anvil/boot-server/src/http/testing/serve-boot-app.js';
import { freePort, startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, waitFor } from '../harness/kube.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';

jest.setTimeout(180_000);

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const KERNEL = randomBytes(3 * 1024 * 1024);
const INITRD = randomBytes(1024 * 1024);
/** What the mirror sends for the initrd: the right length, one wrong byte near the end. */
const TAMPERED = Buffer.from(INITRD);
TAMPERED.writeUInt8(TAMPERED.readUInt8(TAMPERED.length - 10) ^ 0xff, TAMPERED.length - 10);
const HELD_AFTER = 256 * 1024;

/** A release the test triggers by hand. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Reads a fetch body to its end: the bytes, or 'truncated' when the transfer broke off. */
async function readToEnd(reader: ReadableStreamDefaultReader<Uint8Array>, already: Buffer[] = []): Promise<Buffer | 'truncated'> {
  const chunks = [...already];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return Buffer.concat(chunks);
      chunks.push(Buffer.from(value));
    }
  } catch {
    return 'truncated';
  }
}

describe('boot assets: prefetched on publish, streamed while downloading', () => {
  const ns = `assets-${randomBytes(3).toString('hex')}`;
  let cp: ControlPlane;
  let client: KubeClient;
  let boot: RunningProcess;
  let mirror: Server;
  let mirrorURL: string;
  const hits: Record<string, number> = { '/vmlinuz': 0, '/initrd': 0 };
  const requested = { '/vmlinuz': gate(), '/initrd': gate() };
  const release = { '/vmlinuz': gate(), '/initrd': gate() };

  beforeAll(async () => {
    const port = await freePort();
    mirrorURL = `http://127.0.0.1:${port}`;
    mirror = createServer((req, res) => {
      const path = req.url as '/vmlinuz' | '/initrd';
      const body = path === '/vmlinuz' ? KERNEL : path === '/initrd' ? TAMPERED : undefined;
      if (!body) return void res.writeHead(404).end();
      const first = ++hits[path]! === 1;
      res.writeHead(200, { 'Content-Length': body.length });
      if (!first) return void res.end(body);
      requested[path].open();
      res.write(body.subarray(0, HELD_AFTER));
      void release[path].opened.then(() => res.end(body.subarray(HELD_AFTER)));
    });
    await new Promise<void>((resolve) => mirror.listen(port, '127.0.0.1', resolve));
    cp = await startControlPlane();
    client = clientFor(cp);
    await ensureNamespace(client, ns);
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, extraArgs: ['--namespace', ns] });
  });

  afterAll(async () => {
    release['/vmlinuz'].open();
    release['/initrd'].open();
    await boot?.kill();
    if (boot) rmSync(boot.dir, { recursive: true, force: true });
    await cp?.stop();
    mirror?.closeAllConnections();
    await new Promise((resolve) => mirror?.close(resolve));
  });

  const assetURL = (bytes: Buffer, name: string) => `${boot.url}/assets/${sha(bytes)}/${name}`;
  const cached = (bytes: Buffer) => existsSync(join(boot.dir, 'assets', sha(bytes)));

  it('starts downloading the kernel and initrd when the boot config is published, before any machine asks', async () => {
    const config = installConfig('52:54:00:5e:00:20', 'tok-prefetch-issue-20-abcdef', {
      kernel: { url: `${mirrorURL}/vmlinuz`, sha256: sha(KERNEL) },
      initrd: { url: `${mirrorURL}/initrd`, sha256: sha(INITRD) },
    });
    await client.create(CoreResources.secret, toSecret(config, ns));
    await Promise.all([requested['/vmlinuz'].opened, requested['/initrd'].opened]);
    expect(boot.logs()).not.toContain('"path":"/assets/');
    expect(hits).toEqual({ '/vmlinuz': 1, '/initrd': 1 });
  });

  it('sends a machine that arrives mid-download the bytes so far at once, then the verified kernel, and serves it cached', async () => {
    const res = await fetch(assetURL(KERNEL, 'vmlinuz'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(KERNEL.length));
    const reader = res.body!.getReader();
    const first = await reader.read(); // upstream still holds everything after its first 256 KiB
    expect(first.done).toBe(false);
    const head = Buffer.from(first.value!);
    expect(head.length).toBeLessThan(HELD_AFTER);
    expect(head.equals(KERNEL.subarray(0, head.length))).toBe(true);
    release['/vmlinuz'].open();
    const whole = await readToEnd(reader, [head]);
    expect(whole !== 'truncated' && sha(whole)).toBe(sha(KERNEL));
    expect(cached(KERNEL)).toBe(true);

    const part = await fetch(assetURL(KERNEL, 'vmlinuz'), { headers: { Range: 'bytes=1000-1999' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(KERNEL.subarray(1000, 2000))).toBe(true);
    expect(hits['/vmlinuz']).toBe(1);
    const metrics = await waitFor('the prefetch counted', async () => {
      const text = await (await fetch(`${boot.url}/metrics`)).text();
      return text.includes('anvil_boot_assets_prefetch_total{result="fetched"} 1') ? text : undefined;
    });
    expect(Number(/^anvil_boot_assets_cached_bytes (\d+)$/m.exec(metrics)?.[1])).toBe(KERNEL.length);
  });

  it('cuts the transfer short when the initrd does not match its sha256, and never caches it', async () => {
    const res = await fetch(assetURL(INITRD, 'initrd'));
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    release['/initrd'].open();
    expect(await readToEnd(reader, [Buffer.from(first.value!)])).toBe('truncated');
    expect(cached(INITRD)).toBe(false);
    expect(readdirSync(join(boot.dir, 'assets')).filter((f) => f.startsWith(sha(INITRD)) && !f.includes('.part-'))).toEqual([]);

    // The failure is logged with its reason and retried; whatever a later client gets, it is never the whole file.
    await waitFor('the prefetch failure logged', async () => boot.logs().includes('"msg":"asset prefetch failed"'));
    expect(boot.logs()).toContain(`checksum mismatch for ${mirrorURL}/initrd`);
    const again = await fetch(assetURL(INITRD, 'initrd'));
    const outcome = again.status !== 200 ? `HTTP ${again.status}` : (await readToEnd(again.body!.getReader())) === 'truncated' ? 'truncated' : 'a complete body';
    expect(['HTTP 502', 'truncated']).toContain(outcome);
    expect(cached(INITRD)).toBe(false);
  });
});
