// A new embedded database starts from a template: a data directory initialised once (when the image is built) and
// shipped as a .tar.gz, unpacked into an empty data directory before PGlite opens it. PGlite's own first start runs
// initdb inside a second PGlite instance, snapshots that instance's 128 MiB heap, keeps the new cluster in an
// in-memory filesystem and copies it over as a tar: about 1.1 GB at its peak, where the whole boot-server's first
// start from the template peaks near 250 MB (docs/benchmarks.md, "Memory"). Unpacking streams, a chunk at a time.
import { closeSync, createReadStream, createWriteStream, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';

/**
 * PostgreSQL settings of the embedded database, as `-c name=value` pairs: written into a new cluster's
 * postgresql.conf (initdb) and given again at every start, so data directories made before they existed shrink too.
 * PGlite's WebAssembly heap never shrinks and emscripten zeroes shared memory when it maps it, so shared_buffers
 * (128 MB by default) is resident from the first query on; the OS page cache still holds the files behind it.
 */
export const EMBEDDED_SETTINGS: readonly string[] = [
  'shared_buffers=16MB',
  // A running maintenance operation (CREATE INDEX in a migration) would otherwise grow the heap by up to 64 MB for good.
  'maintenance_work_mem=16MB',
  // One backend in single-user mode: the default 100 only sizes shared memory nobody uses.
  'max_connections=10',
];

export const settingsArgs = (settings: readonly string[] = EMBEDDED_SETTINGS): string[] => settings.flatMap((s) => ['-c', s]);

/** The file that tells PGlite (and PostgreSQL) a data directory is initialised: written last when unpacking. */
const MARKER = 'PG_VERSION';

/**
 * Where the template is looked for: ANVIL_PGLITE_TEMPLATE, else pglite-template.tar.gz at the root of the package
 * tree this module runs from (shared/dist/ in the image, where the image build writes it with pglite-template-cli.js).
 */
export function defaultTemplatePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.ANVIL_PGLITE_TEMPLATE || fileURLToPath(new URL('../../pglite-template.tar.gz', import.meta.url));
}

/** True when `dataDir` holds an initialised cluster (PGlite's own test). */
export const isInitialised = (dataDir: string): boolean => existsSync(join(dataDir, MARKER));

/**
 * Initialises a cluster with PGlite (its own initdb: ~1.1 GB, once, at build time), shuts it down cleanly and writes
 * its data directory to `outFile` as a .tar.gz (atomically: a crash leaves no half-written template).
 */
export async function buildTemplate(outFile: string): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  mkdirSync(dirname(outFile), { recursive: true });
  const work = mkdtempSync(join(dirname(outFile), '.pglite-template-'));
  try {
    const dataDir = join(work, 'pgdata');
    const pg = await PGlite.create({ dataDir, initDbStartParams: settingsArgs() });
    await pg.close();
    const partial = join(work, 'template.tar.gz');
    await pipeline(Readable.from(tarDirectory(dataDir)), createGzip({ level: 9 }), createWriteStream(partial));
    renameSync(partial, outFile);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Unpacks the template into `dataDir` (created if missing). Every file is written and fsynced before PG_VERSION, so
 * an interrupted seed leaves a directory PGlite does not take for a database, and the next start seeds it again over
 * what is there.
 */
export async function seedFromTemplate(dataDir: string, templateFile: string): Promise<{ files: number; bytes: number }> {
  mkdirSync(dataDir, { recursive: true, mode: 0o750 });
  let marker: Buffer | undefined;
  let files = 0;
  let bytes = 0;
  const source = createReadStream(templateFile);
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  try {
    for await (const entry of readTar(source.pipe(gunzip))) {
      const parts = safeParts(entry.name);
      const target = join(dataDir, ...parts);
      if (!parts.length && entry.type !== 'directory') throw new Error(`a file without a name in ${templateFile}`);
      if (entry.type === 'directory') {
        mkdirSync(target, { recursive: true, mode: 0o750 });
        continue;
      }
      if (parts.length === 1 && parts[0] === MARKER) {
        marker = Buffer.concat(await collect(entry.body));
        continue;
      }
      mkdirSync(dirname(target), { recursive: true, mode: 0o750 });
      const fd = openSync(target, 'w', 0o640);
      try {
        for await (const chunk of entry.body) bytes += writeSync(fd, chunk);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      files++;
    }
  } finally {
    source.destroy();
    gunzip.destroy();
  }
  if (!marker) throw new Error(`${templateFile} is not a PostgreSQL data directory (no ${MARKER})`);
  const fd = openSync(join(dataDir, MARKER), 'w', 0o640);
  try {
    writeSync(fd, marker);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(dataDir);
  return { files: files + 1, bytes: bytes + marker.length };
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A tar member's path as components (none for the root), refusing parent references; leading '/' and './' are dropped. */
function safeParts(name: string): string[] {
  const parts = posix.normalize(name.replace(/^\/+/, '')).split('/').filter((p) => p && p !== '.');
  if (parts.includes('..')) throw new Error(`unsafe path in template: ${JSON.stringify(name)}`);
  return parts;
}

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of body) out.push(c);
  return out;
}

// --- ustar: regular files and directories only, which is all a data directory holds -----------------------------

const BLOCK = 512;

export interface TarEntry {
  name: string;
  type: 'file' | 'directory';
  size: number;
  /** The file's bytes; must be consumed before the next entry is read. */
  body: AsyncIterable<Buffer>;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

export function tarHeader(name: string, type: 'file' | 'directory', size: number, mtime: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`path too long for the template's tar: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(type === 'directory' ? 0o750 : 0o640, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(mtime), 12), 136, 'ascii');
  h.write(type === 'directory' ? '5' : '0', 156, 'ascii');
  h.write('ustar\0' + '00', 257, 'ascii');
  h.write(' '.repeat(8), 148, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** The tar stream of a directory's contents (names relative to it), directories before what they hold. */
export async function* tarDirectory(root: string, rel = ''): AsyncGenerator<Buffer> {
  for (const name of readdirSync(join(root, rel)).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    const st = statSync(join(root, path));
    if (st.isDirectory()) {
      yield tarHeader(`${path}/`, 'directory', 0, st.mtimeMs / 1000);
      yield* tarDirectory(root, path);
    } else if (st.isFile()) {
      yield tarHeader(path, 'file', st.size, st.mtimeMs / 1000);
      for await (const chunk of createReadStream(join(root, path))) yield chunk as Buffer;
      const pad = (BLOCK - (st.size % BLOCK)) % BLOCK;
      if (pad) yield Buffer.alloc(pad);
    } else {
      throw new Error(`unexpected file type in a data directory: ${path}`);
    }
  }
  if (!rel) yield Buffer.alloc(2 * BLOCK);
}

/** Reads a tar stream entry by entry without holding more than one chunk of it. */
export async function* readTar(stream: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const it = stream[Symbol.asyncIterator]();
  let buf: Buffer = Buffer.alloc(0);
  let ended = false;
  const fill = async (n: number): Promise<boolean> => {
    while (buf.length < n && !ended) {
      const next = await it.next();
      if (next.done) ended = true;
      else buf = buf.length ? Buffer.concat([buf, next.value]) : next.value;
    }
    return buf.length >= n;
  };
  for (;;) {
    if (!(await fill(BLOCK))) throw new Error('truncated tar: no end-of-archive marker');
    const header = buf.subarray(0, BLOCK);
    buf = buf.subarray(BLOCK);
    if (header.every((b) => b === 0)) return;
    const field = (start: number, len: number): string => header.toString('utf8', start, start + len).replace(/\0.*$/s, '');
    const expected = parseInt(field(148, 8).trim(), 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
    if (sum !== expected) throw new Error('corrupt tar header (checksum)');
    const prefix = field(345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const flag = field(156, 1);
    const type = flag === '5' ? 'directory' : flag === '0' || flag === '' ? 'file' : undefined;
    if (!type) throw new Error(`unsupported tar entry type "${flag}" for ${name}`);
    let remaining = size;
    const body = async function* (): AsyncGenerator<Buffer> {
      while (remaining > 0) {
        if (!buf.length && !(await fill(1))) throw new Error(`truncated tar: ${name}`);
        const take = buf.subarray(0, Math.min(remaining, buf.length));
        buf = buf.subarray(take.length);
        remaining -= take.length;
        yield take;
      }
    };
    yield { name: name.replace(/\/$/, ''), type, size, body: { [Symbol.asyncIterator]: body } };
    for await (const _ of body()) void _; // whatever the consumer left unread
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) {
      if (!(await fill(pad))) throw new Error(`truncated tar after ${name}`);
      buf = buf.subarray(pad);
    }
  }
}

