// An HTTPS listener whose certificate follows the files on disk. cert-manager renews a Secret; the kubelet swaps the
// mounted files atomically (a `..data` symlink); new handshakes must see the new pair without a restart.
// Files are polled by content rather than watched: inotify does not follow the kubelet's symlink swap reliably.
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { RequestListener } from 'node:http';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface LoadedCertificate {
  /** SHA-256 fingerprint of the leaf certificate, as Node prints it (AA:BB:...). */
  fingerprint: string;
  notAfter: Date;
  subject: string;
}

export interface ReloadingHttpsOptions extends TlsFiles {
  host: string;
  port: number;
  handler: RequestListener;
  log: Logger;
  /** How often the files are compared with what is served (default 10 s). */
  pollMs?: number;
  /** Called after every successful (re)load, e.g. to export the expiry as a metric. */
  onLoad?: (cert: LoadedCertificate) => void;
  /** Called when the files exist but cannot be used; the previous pair keeps serving. */
  onError?: (message: string) => void;
}

interface Pair {
  cert: Buffer;
  key: Buffer;
  digest: string;
}

export class ReloadingHttpsServer {
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private servedDigest = '';
  private lastProblem = '';
  private checking: Promise<void> = Promise.resolve();
  private readonly listening: Promise<void>;
  private resolveListening!: () => void;

  constructor(private readonly options: ReloadingHttpsOptions) {
    this.listening = new Promise((resolve) => (this.resolveListening = resolve));
  }

  /** Starts polling; the port is bound as soon as a usable pair exists (maybe not yet: cert-manager may still be issuing). */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.options.pollMs ?? 10_000);
    this.timer.unref();
    if (!this.server) this.options.log.warn({ certFile: this.options.certFile }, 'HTTPS waits for its certificate; HTTP keeps serving');
  }

  /** Resolves once the HTTPS port is bound. */
  whenListening(): Promise<void> {
    return this.listening;
  }

  get port(): number | undefined {
    const addr = this.server?.address();
    return typeof addr === 'object' && addr ? addr.port : undefined;
  }

  /** Compares the files with what is served now; tests call it instead of waiting for the timer. */
  check(): Promise<void> {
    this.checking = this.checking.then(() => this.reload()).catch((err: unknown) => this.problem(`HTTPS listener failed: ${(err as Error).message}`));
    return this.checking;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.checking;
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
  }

  private async reload(): Promise<void> {
    const pair = await this.readPair();
    if (!pair || pair.digest === this.servedDigest) return;
    let loaded: LoadedCertificate;
    try {
      createSecureContext({ cert: pair.cert, key: pair.key }); // throws when the key does not match the certificate
      const leaf = new X509Certificate(pair.cert);
      loaded = { fingerprint: leaf.fingerprint256, notAfter: new Date(leaf.validTo), subject: leaf.subject };
    } catch (err) {
      this.problem(`certificate ${this.options.certFile} and key ${this.options.keyFile} are not a usable pair: ${(err as Error).message}`);
      return;
    }
    if (this.server) {
      this.server.setSecureContext({ cert: pair.cert, key: pair.key });
      this.options.log.info(loaded, 'HTTPS certificate reloaded');
    } else {
      await this.listen(pair);
      this.options.log.info({ ...loaded, port: this.port }, 'HTTPS listening');
    }
    this.servedDigest = pair.digest;
    this.lastProblem = '';
    this.options.onLoad?.(loaded);
  }

  private async listen(pair: Pair): Promise<void> {
    const server = createServer({ cert: pair.cert, key: pair.key }, this.options.handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.resolveListening();
  }

  private async readPair(): Promise<Pair | undefined> {
    let cert: Buffer;
    let key: Buffer;
    try {
      [cert, key] = await Promise.all([readFile(this.options.certFile), readFile(this.options.keyFile)]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // not issued yet
      throw err;
    }
    const digest = createHash('sha256').update(cert).update('\0').update(key).digest('hex');
    return { cert, key, digest };
  }

  private problem(message: string): void {
    if (message === this.lastProblem) return; // once per distinct problem, not every poll
    this.lastProblem = message;
    this.options.log.error(message);
    this.options.onError?.(message);
  }
}
