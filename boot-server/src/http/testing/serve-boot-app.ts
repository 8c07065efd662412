// The boot-server's HTTP app for unit tests: listening on 127.0.0.1 (an ephemeral port), its spool in memory, its
// log lines captured, its asset cache in a temporary directory removed on close.
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Level } from 'pino';
import { Registry } from 'prom-client';
import { sha256Hex, type BootConfig } from '@anvil/core/bootconfig';
import { silentLogger } from '@anvil/core/logging';
import { BootConfigIndex } from '../../bootconfigs/index.js';
import type { SpoolRecord } from '../../spool/records.js';
import { AssetCache, type AssetCacheOptions } from '../../assets/cache.js';
import { createBootApp, type BootHttpDeps } from '../app.js';

export interface ServedBootApp {
  base: string;
  index: BootConfigIndex;
  registry: Registry;
  /** The asset cache's directory (removed on close). */
  assetDir: string;
  spooled: SpoolRecord[];
  /** The app's log lines, parsed. */
  logs: Record<string, unknown>[];
  /** Makes the next spool append fail, as a full disk would. */
  failNextAppend(): void;
  close(): Promise<void>;
}

export interface ServeOptions extends Partial<Omit<BootHttpDeps, 'assets' | 'log' | 'registry' | 'spool' | 'index'>> {
  logLevel?: Level;
  fetchImpl?: AssetCacheOptions['fetchImpl'];
  streamGraceMs?: AssetCacheOptions['streamGraceMs'];
}

export async function serveBootApp(options: ServeOptions = {}): Promise<ServedBootApp> {
  const { logLevel, fetchImpl, streamGraceMs, ...deps } = options;
  const logs: Record<string, unknown>[] = [];
  const capture = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const assetDir = mkdtempSync(join(tmpdir(), 'anvil-boot-app-'));
  const index = new BootConfigIndex();
  const registry = new Registry();
  const spooled: SpoolRecord[] = [];
  let failAppend = false;
  const assets = new AssetCache({ dir: assetDir, log: silentLogger(), ...(fetchImpl ? { fetchImpl } : {}), ...(streamGraceMs !== undefined ? { streamGraceMs } : {}) });
  const app = createBootApp({
    index,
    assets,
    spool: {
      append: async (records) => {
        if (failAppend) {
          failAppend = false;
          throw new Error('disk full');
        }
        spooled.push(...records);
      },
    },
    log: pino({ level: logLevel ?? 'info' }, capture),
    registry,
    publicURL: 'http://boot.test/',
    ...deps,
  });
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
    });
  } catch (err) {
    rmSync(assetDir, { recursive: true, force: true });
    throw err;
  }
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    index,
    registry,
    assetDir,
    spooled,
    logs,
    failNextAppend: () => void (failAppend = true),
    close: async () => {
      await assets.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(assetDir, { recursive: true, force: true });
    },
  };
}

/** A host in install mode, its token `token`. */
export function installConfig(mac: string, token: string, install: Partial<NonNullable<BootConfig['install']>> = {}): BootConfig {
  return {
    mode: 'install',
    hostName: `host-${mac.replace(/\W/g, '')}`,
    hostNamespace: 'lab',
    hostUID: `uid-${mac}`,
    mac,
    ipxe: '#!ipxe\nkernel x\n',
    install: {
      installationId: '55555555-5555-4555-8555-555555555555',
      revision: 1,
      attempt: 1,
      token,
      tokenSha256: sha256Hex(token),
      userData: '#cloud-config\n',
      metaData: 'instance-id: x\n',
      kernel: { url: 'http://mirror.test/k', sha256: 'a'.repeat(64) },
      initrd: { url: 'http://mirror.test/i', sha256: 'b'.repeat(64) },
      ...install,
    },
  };
}
