// Answering a client that asks for an asset while it is still being downloaded. iPXE gives up on a transfer that
// sends nothing for a while, and waiting for a whole installer ISO to be fetched and verified first can take longer
// than that; so the client is sent the bytes already on disk as they arrive, with the upstream's Content-Length
// when it gave one.
//
// The bytes are not verified yet, so the response is never allowed to look complete before they are: the last byte
// on disk is held back until the whole file has matched its sha256, and only then is the response ended. If the
// checksum does not match, or upstream fails, the client's connection is destroyed: it sees a truncated transfer
// (short of its Content-Length, or a chunked body without its last chunk) and never a complete wrong file, and the
// file is not cached. A client that asks for a Range, or a HEAD, waits for the verified file instead, as before.
//
// Streaming starts only after a short grace (a second by default): a download that ends within it, as a small file or
// a wrong checksum on a fast mirror does, is answered as before, with the verified file or a 502 that says why.
import { closeSync, openSync, read } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Download, DownloadState } from './download.js';

const CHUNK = 256 * 1024;
export const DEFAULT_GRACE_MS = 1000;

export const ASSET_HEADERS = { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'public, max-age=31536000, immutable' } as const;

/**
 * Streams `download` to `res` while it runs. Returns the verified file's path when the download finished before
 * any byte was sent (the caller serves it as a cached file), or undefined once the response is dealt with.
 * Throws the download's AssetError when it failed before anything was sent.
 */
export async function streamWhileDownloading(download: Download, res: ServerResponse, graceMs = DEFAULT_GRACE_MS): Promise<string | undefined> {
  const closed = new Promise<void>((resolve) => res.once('close', resolve));
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([download.result.catch(() => undefined), closed, new Promise<void>((resolve) => (grace = setTimeout(resolve, graceMs)))]);
  clearTimeout(grace);
  while (download.state === 'running' && download.written === 0 && !res.destroyed) await Promise.race([download.changed(), closed]);
  if (res.destroyed) return undefined;
  if (download.state === 'verified') return download.result;
  if (download.state === 'failed') throw download.error;

  const fd = openSync(download.partPath, 'r');
  try {
    const length = download.length;
    res.writeHead(200, { ...ASSET_HEADERS, 'Accept-Ranges': 'bytes', ...(length !== undefined ? { 'Content-Length': length } : {}) });
    let sent = 0;
    for (;;) {
      if (res.destroyed) return undefined;
      const state = stateOf(download); // read afresh: it changes while this awaits
      if (state === 'failed') {
        res.destroy();
        return undefined;
      }
      const onDisk = download.written;
      const sendable = state === 'verified' ? onDisk : Math.min(onDisk, length ?? onDisk) - 1;
      if (sent < sendable) {
        const chunk = await readAt(fd, Math.min(CHUNK, sendable - sent), sent);
        sent += chunk.length;
        if (!res.write(chunk)) await Promise.race([drained(res), closed]);
        continue;
      }
      if (state === 'verified') {
        res.end();
        return undefined;
      }
      await Promise.race([download.changed(), closed]);
    }
  } catch {
    res.destroy(); // the headers are gone: a truncated transfer is the only honest answer left
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The download's state now (a call, so the type checker does not carry a narrowing across awaits). */
function stateOf(download: Download): DownloadState {
  return download.state;
}

function readAt(fd: number, length: number, position: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const buffer = Buffer.allocUnsafe(length);
    read(fd, buffer, 0, length, position, (err, bytesRead) => {
      if (err) return reject(err);
      if (bytesRead === 0) return reject(new Error(`asset part file ended at ${position} bytes`));
      resolve(buffer.subarray(0, bytesRead));
    });
  });
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
