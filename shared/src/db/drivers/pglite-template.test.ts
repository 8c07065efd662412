import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync, createGzip } from 'node:zlib';
import { isInitialised, readTar, seedFromTemplate, tarDirectory, tarHeader } from './pglite-template.js';

describe('the embedded database template', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'anvil-template-test-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  /** A small data directory: PG_VERSION, nested directories, an empty one, files around the 512-byte block size. */
  function dataDir(): string {
    const dir = join(work, 'src');
    mkdirSync(join(dir, 'base', '1'), { recursive: true });
    mkdirSync(join(dir, 'pg_wal', 'archive_status'), { recursive: true });
    writeFileSync(join(dir, 'PG_VERSION'), '18\n');
    writeFileSync(join(dir, 'base', '1', '1247'), Buffer.alloc(8192, 7));
    writeFileSync(join(dir, 'base', '1', 'odd'), Buffer.alloc(513, 1));
    writeFileSync(join(dir, 'postgresql.conf'), 'shared_buffers = 16MB\n');
    writeFileSync(join(dir, 'empty'), '');
    return dir;
  }

  const pack = async (dir: string, file: string): Promise<string> => {
    await pipeline(Readable.from(tarDirectory(dir)), createGzip(), createWriteStream(file));
    return file;
  };

  const tree = (dir: string, rel = ''): string[] =>
    readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) => {
      const path = rel ? `${rel}/${e.name}` : e.name;
      return e.isDirectory() ? [`${path}/`, ...tree(dir, path)] : [`${path} ${readFileSync(join(dir, path)).toString('base64')}`];
    }).sort();

  it('unpacks what it packed, file for file, and marks the directory initialised', async () => {
    const src = dataDir();
    const template = await pack(src, join(work, 't.tar.gz'));
    const target = join(work, 'data');
    expect(isInitialised(target)).toBe(false);
    const { files } = await seedFromTemplate(target, template);
    expect(files).toBe(5);
    expect(tree(target)).toEqual(tree(src));
    expect(isInitialised(target)).toBe(true);
  });

  it('writes a tar that the system tar reads, and reads one that it wrote', async () => {
    const src = dataDir();
    const ours = await pack(src, join(work, 'ours.tar.gz'));
    expect(execFileSync('tar', ['-tzf', ours], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()).toEqual(
      ['PG_VERSION', 'base/', 'base/1/', 'base/1/1247', 'base/1/odd', 'empty', 'pg_wal/', 'pg_wal/archive_status/', 'postgresql.conf'],
    );
    const theirs = join(work, 'theirs.tar.gz');
    execFileSync('tar', ['--format=ustar', '-czf', theirs, '-C', src, '.']);
    const target = join(work, 'data');
    await seedFromTemplate(target, theirs);
    expect(tree(target)).toEqual(tree(src));
  });

  it('leaves PG_VERSION out until everything else is written, and a second seed completes an interrupted one', async () => {
    const src = dataDir();
    const good = await pack(src, join(work, 't.tar.gz'));
    // The same archive cut off in the middle of a file: PG_VERSION (first in the archive) is held back.
    const whole = execFileSync('gzip', ['-dc', good]);
    const truncated = join(work, 'truncated.tar.gz');
    writeFileSync(truncated, gzipSync(whole.subarray(0, 4 * 512 + 3000)));
    const target = join(work, 'data');
    await expect(seedFromTemplate(target, truncated)).rejects.toThrow(/truncated/);
    expect(existsSync(join(target, 'base'))).toBe(true);
    expect(isInitialised(target)).toBe(false);
    await seedFromTemplate(target, good);
    expect(tree(target)).toEqual(tree(src));
  });

  it('refuses members outside the data directory and types a data directory does not hold', async () => {
    const archive = (header: Buffer, body = Buffer.alloc(0)): string => {
      const file = join(work, `a-${Math.random()}.tar.gz`);
      writeFileSync(file, gzipSync(Buffer.concat([header, body, Buffer.alloc(1024)])));
      return file;
    };
    await expect(seedFromTemplate(join(work, 'd1'), archive(tarHeader('../escape', 'file', 0, 0)))).rejects.toThrow(/unsafe path/);
    const link = tarHeader('PG_VERSION', 'file', 0, 0);
    link.write('2', 156, 'ascii'); // a symbolic link; the checksum no longer matches either
    await expect(seedFromTemplate(join(work, 'd2'), archive(link))).rejects.toThrow(/checksum|unsupported/);
    await expect(seedFromTemplate(join(work, 'd3'), archive(tarHeader('base/', 'directory', 0, 0)))).rejects.toThrow(/no PG_VERSION/);
    expect(existsSync(join(work, 'escape'))).toBe(false);
  });

  it('reads entries whose bodies the caller skips', async () => {
    const src = dataDir();
    const names: string[] = [];
    for await (const e of readTar(tarDirectory(src))) names.push(`${e.type} ${e.name} ${e.size}`);
    expect(names).toEqual([
      'file PG_VERSION 3', 'directory base 0', 'directory base/1 0', 'file base/1/1247 8192', 'file base/1/odd 513', 'file empty 0',
      'directory pg_wal 0', 'directory pg_wal/archive_status 0', 'file postgresql.conf 22',
    ]);
  });
});
