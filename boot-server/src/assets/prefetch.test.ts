// Prefetching: a published boot config's assets start downloading at once, a few at a time, sharing the one download
// per sha256 with requests, and failed downloads are retried with backoff, logged without credentials.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { toSecret } from '@anvil/core/bootconfig';
import type { InformerHandlers, KubeObject } from '@anvil/core/kube';
import { BootConfigIndex } from '../bootconfigs/index.js';
import { installConfig } from '../http/testing/serve-boot-app.js';
import { AssetCache } from './cache.js';
import { AssetPrefetcher, type PrefetchResult } from './prefetch.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const FILES: Record<string, Buffer> = { vmlinuz: Buffer.from('kernel bytes'), initrd: Buffer.from('initrd bytes'), iso: Buffer.from('iso bytes') };

/** A boot config Secret source that the test drives, as the informers drive the real one. */
class Secrets {
  private readonly handlers: InformerHandlers<KubeObject>[] = [];
  addHandlers(h: InformerHandlers<KubeObject>): void {
    this.handlers.push(h);
  }
  add(secret: KubeObject): void {
    for (const h of this.handlers) h.onAdd?.(secret);
  }
  remove(secret: KubeObject): void {
    for (const h of this.handlers) h.onDelete?.(secret);
  }
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 3000 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
}

function secretFor(mac: string, urls: Record<string, string> = {}): KubeObject {
  const asset = (name: string) => ({ url: urls[name] ?? `http://mirror.test/${name}`, sha256: sha(FILES[name]!) });
  return toSecret(installConfig(mac, `tok-prefetch-${mac.replace(/:/g, '')}`, { kernel: asset('vmlinuz'), initrd: asset('initrd'), iso: asset('iso') }), 'lab');
}

describe('assets: prefetch', () => {
  let dir: string;
  let cache: AssetCache;
  let prefetcher: AssetPrefetcher | undefined;
  const logs: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
        cb();
      },
    }),
  );
  let fetched: string[];
  let answer: (url: string) => Promise<Response>;
  const results: PrefetchResult[] = [];

  function start(options: { retryBaseMs?: number } = {}): { secrets: Secrets; index: BootConfigIndex } {
    const secrets = new Secrets();
    const index = new BootConfigIndex(secrets);
    prefetcher = new AssetPrefetcher(cache, (s) => index.artifact(s), { log, concurrency: 2, ...options, onResult: (r) => results.push(r) });
    prefetcher.watch(secrets);
    return { secrets, index };
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'anvil-prefetch-'));
    fetched = [];
    logs.length = 0;
    results.length = 0;
    answer = async (url) => new Response(FILES[url.split('/').pop()!.split('?')[0]!]);
    cache = new AssetCache({ dir, log, fetchImpl: async (url) => (fetched.push(String(url)), answer(String(url))) });
  });
  afterEach(async () => {
    prefetcher?.stop();
    await cache.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts downloading a new config\'s assets without blocking it, two at a time, sharing downloads with requests', async () => {
    const release = new Map<string, () => void>();
    answer = (url) => new Promise((resolve) => release.set(url, () => resolve(new Response(FILES[url.split('/').pop()!]))));
    const { secrets } = start();
    secrets.add(secretFor('52:54:00:3c:01:01'));
    expect(fetched).toEqual([]); // queued only: the informer's handler returned at once
    await until('two downloads', () => fetched.length === 2);
    expect(fetched).toEqual(['http://mirror.test/vmlinuz', 'http://mirror.test/initrd']);
    expect(prefetcher!.queued).toBe(1);
    expect(cache.inflightCount).toBe(2);

    const asked = cache.ensure({ url: 'http://mirror.test/vmlinuz', sha256: sha(FILES.vmlinuz!) });
    await until('kernel released', () => release.has('http://mirror.test/vmlinuz'));
    release.get('http://mirror.test/vmlinuz')!();
    expect(await asked).toBe(cache.pathFor(sha(FILES.vmlinuz!)));
    await until('the third download', () => fetched.length === 3);
    await until('the ISO released', () => release.has('http://mirror.test/iso'));
    release.get('http://mirror.test/initrd')!();
    release.get('http://mirror.test/iso')!();
    await until('every asset cached', () => Object.values(FILES).every((f) => existsSync(cache.pathFor(sha(f)))));
    await until('three results', () => results.length === 3);
    expect(results).toEqual(['fetched', 'fetched', 'fetched']);
    expect(fetched).toHaveLength(3);

    secrets.add(secretFor('52:54:00:3c:01:02')); // the same assets again: already cached
    await new Promise((r) => setImmediate(r));
    expect(prefetcher!.queued).toBe(0);
    expect(fetched).toHaveLength(3);
  });

  it('retries a failed download with a doubling delay, one log line per failure, credentials and query hidden', async () => {
    let failures = 2;
    answer = async (url) => (url.includes('/iso') && failures-- > 0 ? new Response('busy', { status: 503 }) : new Response(FILES[url.split('/').pop()!.split('?')[0]!]));
    const { secrets } = start({ retryBaseMs: 5 });
    secrets.add(secretFor('52:54:00:3c:01:03', { iso: 'http://user:hunter2@mirror.test/iso?token=s3cr3t' }));
    await until('the ISO cached', () => existsSync(cache.pathFor(sha(FILES.iso!))));
    const failed = logs.filter((l) => l.msg === 'asset prefetch failed');
    expect(failed.map(({ url, attempt, retryInMs, err }) => ({ url, attempt, retryInMs, err }))).toEqual([
      { url: 'http://REDACTED@mirror.test/iso?REDACTED', attempt: 1, retryInMs: 5, err: 'upstream http://REDACTED@mirror.test/iso?REDACTED answered HTTP 503' },
      { url: 'http://REDACTED@mirror.test/iso?REDACTED', attempt: 2, retryInMs: 10, err: 'upstream http://REDACTED@mirror.test/iso?REDACTED answered HTTP 503' },
    ]);
    expect(JSON.stringify(logs)).not.toMatch(/hunter2|s3cr3t/);
    await until('five results', () => results.length === 5);
    expect(results.filter((r) => r === 'failed')).toHaveLength(2);
  });

  it('gives up retrying once no published config refers to the asset', async () => {
    answer = async () => new Response('gone', { status: 410 });
    const { secrets, index } = start({ retryBaseMs: 5 });
    const secret = secretFor('52:54:00:3c:01:04');
    secrets.add(secret);
    await until('three failures', () => results.length >= 3);
    secrets.remove(secret);
    expect(index.artifact(sha(FILES.iso!))).toBeUndefined();
    // Every retry that was waiting now finds nothing to fetch, and nothing is left to retry.
    await until('nothing pending', () => prefetcher!.pending === 0);
    const before = fetched.length;
    await new Promise((r) => setImmediate(r));
    expect(prefetcher!.pending).toBe(0);
    expect(fetched.length).toBe(before);
  });
});
