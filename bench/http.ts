// Benchmark 3: HTTP. The boot-server (real process, real kube-apiserver behind it) vs nginx (one worker) serving the
// same bytes as static files: the iPXE entry script, a per-host iPXE script, a NoCloud user-data, and a large asset
// streamed to many clients at once.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { entryScript } from '@anvil/boot-server/src/http/ipxe-scripts.js';
import type { BenchContext } from './context.js';
import { startNginx } from './lib/anchors.js';
import { startBootFixture } from './lib/boot-fixture.js';
import { wrk, type WrkResult } from './lib/wrk.js';
import type { BenchmarkResult, Row } from './lib/results.js';

const MiB = 1024 * 1024;

export async function httpBench(ctx: BenchContext): Promise<BenchmarkResult> {
  const seconds = ctx.quick ? 2 : 10;
  // An installer ISO is larger, but 64 clients must each finish a download within a cell for wrk to count it.
  const assetBytes = ctx.quick ? 8 * MiB : 64 * MiB;
  const streamSeconds = ctx.quick ? 2 : 20;
  const fx = await startBootFixture({ hosts: 1, assetBytes, workDir: ctx.workDir, ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
  const rows: Row[] = [];
  const notes: string[] = [];
  const commands: string[] = [];
  try {
    const host = fx.hosts[0]!;
    const dashed = host.mac.replace(/:/g, '-');
    const paths = {
      entry: '/boot.ipxe',
      script: `/ipxe/${dashed}`,
      userData: `/nocloud/${dashed}/${host.token}/user-data`,
      asset: fx.asset.urlPath,
    };
    // nginx serves the very bytes the boot-server answers with, from files at the same paths.
    const www = join(ctx.workDir, 'www');
    const put = (path: string, body: string): void => {
      mkdirSync(dirname(join(www, path)), { recursive: true });
      writeFileSync(join(www, path), body);
    };
    put(paths.entry, entryScript(fx.boot.url));
    put(paths.script, host.config.ipxe);
    put(paths.userData, host.config.install!.userData);
    mkdirSync(dirname(join(www, paths.asset)), { recursive: true });
    copyFileSync(fx.asset.path, join(www, paths.asset));
    const nginx = await startNginx(www, ctx.workDir);
    ctx.log('http: boot-server and nginx up');
    commands.push(`# nginx: ${nginx.server.command}`, `# anvil: node --conditions=anvil-source --import tsx boot-server/src/main.ts --kubeconfig KUBECONFIG --namespace bench --http-port PORT --tftp-port 0 ... (LOG_LEVEL=info)`);

    const small: Array<[string, string, string]> = [
      ['iPXE entry script (/boot.ipxe)', paths.entry, 'static in both'],
      ['per-host iPXE script (/ipxe/MAC)', paths.script, 'anvil looks the MAC up and spools a boot-request record (write + fsync, group-committed) before answering'],
      ['NoCloud user-data', paths.userData, 'anvil checks the token (constant time) and spools a boot-request record before answering'],
    ];
    for (const [label, path, note] of small) {
      const connections = 64;
      const a = await wrk(`${fx.boot.url}${path}`, { connections, seconds });
      const n = await wrk(`${nginx.url}${path}`, { connections, seconds });
      check(label, a);
      check(label, n);
      if (!commands.some((c) => c.startsWith('wrk') && c.includes(' -c 64 '))) commands.push(a.command.replace(fx.boot.url, 'http://127.0.0.1:PORT'));
      rows.push(
        { setting: `${label}, ${connections} connections`, metric: 'requests/s', unit: 'req/s', better: 'higher', anvil: a.requestsPerSec, anchors: { nginx: n.requestsPerSec } },
        { setting: `${label}, ${connections} connections`, metric: 'p99 latency', unit: 'ms', better: 'lower', anvil: a.p99Ms, anchors: { nginx: n.p99Ms } },
      );
      notes.push(`${label}: ${note}.`);
      ctx.log(`http ${label}: anvil ${a.requestsPerSec.toFixed(0)} req/s p99 ${a.p99Ms} ms; nginx ${n.requestsPerSec.toFixed(0)} req/s p99 ${n.p99Ms} ms`);
    }
    for (const connections of ctx.quick ? [4] : [8, 64]) {
      const a = await wrk(`${fx.boot.url}${paths.asset}`, { connections, seconds: streamSeconds });
      const n = await wrk(`${nginx.url}${paths.asset}`, { connections, seconds: streamSeconds });
      check('asset', a);
      check('asset', n);
      const setting = `${assetBytes / MiB} MiB asset streamed, ${connections} concurrent clients`;
      rows.push({ setting, metric: 'throughput', unit: 'MB/s', better: 'higher', anvil: a.transferBytesPerSec / 1e6, anchors: { nginx: n.transferBytesPerSec / 1e6 } });
      ctx.log(`http ${setting}: anvil ${(a.transferBytesPerSec / 1e6).toFixed(0)} MB/s; nginx ${(n.transferBytesPerSec / 1e6).toFixed(0)} MB/s`);
      if (connections === (ctx.quick ? 4 : 64)) commands.push(a.command.replace(fx.boot.url, 'http://127.0.0.1:PORT'));
    }
    await nginx.server.stop();
  } finally {
    await fx.stop();
  }
  notes.push(
    `wrk with one thread (${seconds} s per cell, ${streamSeconds} s for streaming) on the same 2 cores as the server; nginx runs one worker with sendfile, the boot-server is one Node process (express; assets through res.sendFile, which reads through libuv's thread pool).`,
    'The boot-server runs with its production log level (info) and ships the spooled boot requests to its embedded history database (PGlite) while it serves.',
  );
  return {
    name: 'http',
    title: '3. HTTP: iPXE scripts, NoCloud, asset streaming',
    anchorNames: ['nginx'],
    rows,
    commands: [`npm run bench -- --only http${ctx.quick ? ' --quick' : ''}`, ...commands],
    notes,
    load: { before: 0, after: 0 },
    seconds: 0,
  };
}

function check(label: string, r: WrkResult): void {
  if (r.non2xx || !(r.requestsPerSec > 0)) throw new Error(`${label}: ${r.non2xx} non-2xx answers, ${r.requestsPerSec} req/s (${r.command}):\n${r.output}`);
}
