// The upstream file table download-url fetches from. Files under /_upstream/ are also served over HTTP by the
// simulator, so the operator can read checksum files from it.
import type { ServerResponse } from 'node:http';
import { GiB, hashOf, type UpstreamFile } from './state.js';

export const UPSTREAM_PREFIX = '/_upstream/';

export class UpstreamFiles {
  constructor(readonly files: Map<string, UpstreamFile>, private readonly baseUrl: () => string) {}

  /** Publishes (or replaces, which changes its checksums) a file download-url can fetch. */
  set(url: string, data: string | Buffer, options: { virtualSize?: number; contentType?: string } = {}): UpstreamFile {
    const file: UpstreamFile = {
      url,
      data: Buffer.isBuffer(data) ? data : Buffer.from(data),
      virtualSize: options.virtualSize ?? Math.round(2.2 * GiB),
      contentType: options.contentType ?? 'application/octet-stream',
    };
    this.files.set(url, file);
    return file;
  }

  remove(url: string): void {
    this.files.delete(url);
  }

  /** A URL served by the simulator's upstream file table (`/_upstream/<path>`). */
  url(path: string): string {
    return `${this.baseUrl()}${UPSTREAM_PREFIX}${path.replace(/^\/+/, '')}`;
  }

  /** Checksum of an upstream file, as download-url computes it. */
  checksum(url: string, algorithm = 'sha256'): string {
    const f = this.files.get(url);
    if (!f) throw new Error(`no upstream file ${url}`);
    return hashOf(f.data, algorithm);
  }

  serve(pathname: string, res: ServerResponse): void {
    const file = this.files.get(`${this.baseUrl()}${pathname}`);
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': file.contentType, 'Content-Length': file.data.length });
    res.end(file.data);
  }
}
