// anvil as the image and the chart run it, for the memory benchmark (memory.ts): a source tree compiled as the image
// build compiles it (tsc into dist/, node_modules linked in), its processes started with `node dist/.../main.js` (in a
// cgroup v1 memory cgroup of their own when possible), and bare PGlite run the same way as an anchor.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { waitFor } from '../../test/harness/kube.js';
import { createMemoryCgroup, processMemory, type MemoryCgroup } from '../../test/harness/memory.js';
import type { BenchContext } from '../context.js';
import { ROOT } from './anchors.js';
import { startServer, type Server } from './procs.js';

const run = promisify(execFile);

export interface App {
  /** The directory holding package.json, node_modules (a link) and dist/, as /app in the image. */
  dir: string;
  entry(what: 'boot-server' | 'operator'): string;
  /** The embedded database's template CLI, and where the boot-server looks for the template by default. */
  templateCli: string;
  templateFile: string;
}

/**
 * Compiles a source tree as the image build does. A tree of workspace packages builds in place (`tsc -b`, each package
 * into its own dist/, resolved through node_modules/@anvil as in the image); an older single-package tree (the
 * "before" of a comparison) into `dir`/dist, with the repository's node_modules linked in.
 */
export async function compile(ctx: BenchContext, source: string, dir: string, label: string): Promise<App> {
  if (existsSync(join(source, 'operator', 'package.json'))) return compileWorkspaces(ctx, source, label);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(source, 'package.json'), join(dir, 'package.json'));
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  if (source !== ROOT && !existsSync(join(source, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'));
  ctx.log(`memory: compiling ${label} (tsc)`);
  // Type errors elsewhere in a tree being edited do not stop tsc from emitting, and do not matter here.
  await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(source, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { cwd: source, maxBuffer: 64 * 1024 * 1024 }).catch(() => undefined);
  const app: App = {
    dir,
    entry: (what) => join(dir, 'dist', what, 'src', 'main.js'),
    templateCli: join(dir, 'dist', 'shared', 'src', 'db', 'drivers', 'pglite-template-cli.js'),
    templateFile: join(dir, 'dist', 'pglite-template.tar.gz'),
  };
  if (!existsSync(app.entry('boot-server'))) throw new Error(`tsc produced no ${app.entry('boot-server')}`);
  return app;
}

async function compileWorkspaces(ctx: BenchContext, source: string, label: string): Promise<App> {
  if (!existsSync(join(source, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'));
  ctx.log(`memory: compiling ${label} (tsc -b)`);
  await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', join(source, 'tsconfig.build.json')], { cwd: source, maxBuffer: 64 * 1024 * 1024 }).catch(() => undefined);
  const app: App = {
    dir: source,
    entry: (what) => join(source, what, 'dist', 'main.js'),
    templateCli: join(source, 'shared', 'dist', 'db', 'drivers', 'pglite-template-cli.js'),
    templateFile: join(source, 'shared', 'dist', 'pglite-template.tar.gz'),
  };
  if (!existsSync(app.entry('boot-server'))) throw new Error(`tsc -b produced no ${app.entry('boot-server')}`);
  return app;
}

/** Runs a process to its end and returns its peak RSS, polled (VmHWM only grows: the last reading is the peak). */
export async function peakOfRun(cmd: string, args: string[], cwd: string): Promise<number> {
  const child = execFile(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let peak = 0;
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    peak = Math.max(peak, processMemory(child.pid!)?.peak ?? 0);
    await sleep(100);
  }
  if ((await exited) !== 0) throw new Error(`${args.join(' ')} failed`);
  return peak;
}

export interface Started {
  server: Server;
  cgroup?: MemoryCgroup;
  url: string;
}

/** Starts `node <args>` (in a cgroup of its own when possible) and waits for `probe` to answer. */
export async function startNode(name: string, args: string[], options: { workDir: string; cwd: string; env?: Record<string, string>; probe: string; port: number; cgroups: boolean }): Promise<Started> {
  const cgroup = options.cgroups ? createMemoryCgroup(name) : undefined;
  const [cmd, ...prefix] = cgroup ? ['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup.dir, process.execPath] : [process.execPath];
  const server = startServer(name, cmd!, [...prefix, ...args], {
    logFile: join(options.workDir, `${name}.log`),
    cwd: options.cwd,
    env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'info', ...options.env },
  });
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitFor(`${name} answering ${options.probe}`, async () => {
      if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`${name} exited (${server.child.signalCode ?? server.child.exitCode}):\n${server.logs().slice(-3000)}`);
      return (await fetch(`${url}${options.probe}`).catch(() => undefined))?.ok;
    }, 300_000, 200);
  } catch (err) {
    await server.stop();
    await cgroup?.remove();
    throw err;
  }
  return { server, url, ...(cgroup ? { cgroup } : {}) };
}

export async function stopNode(s: Started): Promise<number | undefined> {
  await s.server.stop();
  const peak = s.cgroup?.maxUsage();
  await s.cgroup?.remove();
  return peak;
}

const BARE_PGLITE = `// PGlite as its README opens it: a data directory, defaults; one query; then the same settling time as anvil's.
import { PGlite } from '@electric-sql/pglite';
import { readFileSync } from 'node:fs';
const db = await PGlite.create({ dataDir: process.argv[2] });
await db.query('SELECT count(*) FROM pg_class');
await new Promise((r) => setTimeout(r, Number(process.argv[3])));
const status = readFileSync('/proc/self/status', 'utf8');
const kib = (f) => Number(new RegExp('^' + f + ':\\\\s+(\\\\d+)', 'm').exec(status)[1]) * 1024;
process.stdout.write(JSON.stringify({ peak: kib('VmHWM'), rss: kib('VmRSS') }));
await db.close();
`;

/** Bare PGlite on `dataDir`, run from `app`'s directory (its node_modules): peak and settled RSS. */
export async function barePglite(app: App, dataDir: string, settleMs: number): Promise<{ peak: number; rss: number }> {
  // In app's directory so that it resolves app's PGlite; removed afterwards (app may be the working tree).
  const script = join(app.dir, `.anvil-bench-bare-pglite-${process.pid}.mjs`);
  writeFileSync(script, BARE_PGLITE);
  try {
    const { stdout } = await run(process.execPath, [script, dataDir, String(settleMs)], { cwd: app.dir, env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 16 * 1024 * 1024 });
    return JSON.parse(stdout) as { peak: number; rss: number };
  } finally {
    rmSync(script, { force: true });
  }
}
