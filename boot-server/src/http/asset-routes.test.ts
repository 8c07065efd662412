// The asset route: a kernel, initrd or ISO a published boot config refers to, fetched once from upstream, verified,
// then served from the cache with Range support and immutable caching.
import { createHash } from 'node:crypto';
import { toSecret } from '@anvil/core/bootconfig';
import { installConfig, serveBootApp, type ServedBootApp } from './testing/serve-boot-app.js';

const KERNEL = Buffer.from('a kernel of some bytes\n');
const KERNEL_SHA = createHash('sha256').update(KERNEL).digest('hex');
const LIAR_SHA = 'c'.repeat(64);

describe('boot-server HTTP: cached assets', () => {
  let app: ServedBootApp;
  const fetched: string[] = [];
  beforeAll(async () => {
    app = await serveBootApp({
      fetchImpl: async (url) => {
        fetched.push(String(url));
        return String(url).endsWith('/missing') ? new Response('gone', { status: 410 }) : new Response(KERNEL);
      },
    });
    app.index.upsert(
      toSecret(
        installConfig('52:54:00:3c:00:01', 'tok-assets-0123456789', {
          kernel: { url: 'http://mirror.test/vmlinuz', sha256: KERNEL_SHA },
          initrd: { url: 'http://mirror.test/initrd', sha256: LIAR_SHA },
          iso: { url: 'http://mirror.test/missing', sha256: 'd'.repeat(64) },
        }),
        'lab',
      ),
    );
  });
  afterAll(async () => app.close());

  it('serves a published asset from the cache, fetched once, with Range support and immutable caching', async () => {
    const whole = await fetch(`${app.base}/assets/${KERNEL_SHA.toUpperCase()}/vmlinuz`);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(KERNEL);
    expect(whole.headers.get('content-type')).toBe('application/octet-stream');
    expect(whole.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    const part = await fetch(`${app.base}/assets/${KERNEL_SHA}/vmlinuz`, { headers: { range: 'bytes=2-7' } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe('kernel');
    expect(fetched).toEqual(['http://mirror.test/vmlinuz']);
  });

  it('answers 404 for a sha256 no published config refers to, or a malformed one, without fetching', async () => {
    for (const sha of ['e'.repeat(64), 'not-a-sha', `${KERNEL_SHA}0`]) {
      const res = await fetch(`${app.base}/assets/${sha}/x`);
      expect({ sha, status: res.status, body: await res.text() }).toEqual({ sha, status: 404, body: 'not found\n' });
    }
    expect(fetched).toEqual(['http://mirror.test/vmlinuz']);
  });

  it('answers 502 with the reason when upstream fails or sends other bytes than its checksum says', async () => {
    const liar = await fetch(`${app.base}/assets/${LIAR_SHA}/initrd`);
    expect(liar.status).toBe(502);
    expect(liar.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await liar.text()).toBe(`checksum mismatch for http://mirror.test/initrd: expected sha256 ${LIAR_SHA}, got ${KERNEL_SHA}\n`);
    const missing = await fetch(`${app.base}/assets/${'d'.repeat(64)}/iso`);
    expect(missing.status).toBe(502);
    expect(await missing.text()).toBe('upstream http://mirror.test/missing answered HTTP 410\n');
  });
});
