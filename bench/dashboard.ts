// Benchmark: the web dashboard with a 10,000-host fleet (issue 23). The dashboard server runs in a process of its own
// (bench/servers/dashboard-fleet.ts: the real router and event stream over an in-memory host source) and Debian's
// chromium loads the real page: first useful paint (sign-in click to the first rows of the fleet), then W browsers
// watch the fleet while a host changes every 500 ms, and each change's latency is the time until EVERY browser shows
// it; meanwhile the server's CPU and RSS are sampled. There is no anchor: nothing else serves this page.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWeb } from '@anvil/dashboard/src/build-web.js';
import type { BenchContext } from './context.js';
import { ROOT } from './lib/anchors.js';
import { median, percentile, type BenchmarkResult, type Row } from './lib/results.js';

const CHROMIUM = '/usr/bin/chromium';
const HOSTS = 10_000;
const ROW = 'tr[data-host="rack-00/node-00000"]';

async function startServer(assetsDir: string): Promise<{ child: ChildProcess; port: number; control: number }> {
  const child = spawn(process.execPath, ['--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'bench', 'servers', 'dashboard-fleet.ts'), String(HOSTS), assetsDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the dashboard server exited (${code}) before listening`)));
  });
  const { port, control } = JSON.parse(first) as { port: number; control: number };
  return { child, port, control };
}

async function signIn(browser: Browser, base: string): Promise<{ page: Page; ms: number }> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/`);
  await page.getByLabel('Kubernetes bearer token').fill('bench-token');
  const t0 = performance.now();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator(ROW).waitFor({ timeout: 60_000 });
  return { page, ms: performance.now() - t0 };
}

export async function dashboardBench(ctx: BenchContext): Promise<BenchmarkResult> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed (scripts/setup.sh installs Debian's chromium)`);
  const started = performance.now();
  const loadBefore = (await import('node:os')).loadavg()[0]!;
  const paints = ctx.quick ? 3 : 7;
  const watchers = ctx.quick ? 5 : 20;
  const changes = ctx.quick ? 10 : 30;
  const assetsDir = join(ctx.workDir, 'web');
  await buildWeb(assetsDir);
  const server = await startServer(assetsDir);
  const base = `http://127.0.0.1:${server.port}`;
  const control = (path: string) => fetch(`http://127.0.0.1:${server.control}${path}`);
  const stats = async () => (await (await control('/stats')).json()) as { cpuMs: number; rss: number };
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    ctx.log(`dashboard: ${HOSTS} hosts; first paint x${paints}, then ${watchers} browsers watching ${changes} changes`);
    const paintMs: number[] = [];
    for (let i = 0; i < paints; i++) {
      const { page, ms } = await signIn(browser, base);
      paintMs.push(ms);
      await page.context().close();
    }
    const pages: Page[] = [];
    for (let i = 0; i < watchers; i++) {
      const { page } = await signIn(browser, base);
      await page.getByText('Live', { exact: true }).waitFor({ timeout: 60_000 });
      pages.push(page);
    }
    const before = await stats();
    const t0 = performance.now();
    let peakRss = before.rss;
    const latencies: number[] = [];
    for (let n = 1; n <= changes; n++) {
      const phase = `bench-${n}`;
      const sent = performance.now();
      await control(`/change?phase=${phase}`);
      const seen = await Promise.all(
        // a locator (playwright's own injected script): the page's Content-Security-Policy forbids evaluating strings
        pages.map((p) => p.locator(ROW, { hasText: phase }).waitFor({ timeout: 30_000 }).then(() => performance.now())),
      );
      latencies.push(Math.max(...seen) - sent);
      peakRss = Math.max(peakRss, (await stats()).rss);
      await sleep(Math.max(0, 500 - (performance.now() - sent)));
    }
    const after = await stats();
    const cpuPercent = ((after.cpuMs - before.cpuMs) / (performance.now() - t0)) * 100;
    const sorted = [...latencies].sort((a, b) => a - b);
    const row = (setting: string, metric: string, unit: string, better: 'higher' | 'lower', anvil: number): Row => ({ setting, metric, unit, better, anvil: Math.round(anvil * 10) / 10, anchors: {} });
    return {
      name: 'dashboard',
      title: `Web dashboard, ${HOSTS.toLocaleString('en')} hosts, Debian's chromium`,
      anchorNames: [],
      rows: [
        row(`sign-in click to the first fleet rows (median of ${paints})`, 'first useful paint', 'ms', 'lower', median(paintMs)),
        row(`a host change to all ${watchers} watching browsers (${changes} changes, p50)`, 'SSE update latency', 'ms', 'lower', percentile(sorted, 50)),
        row(`a host change to all ${watchers} watching browsers (${changes} changes, p95)`, 'SSE update latency', 'ms', 'lower', percentile(sorted, 95)),
        row(`server while ${watchers} browsers watch, a change every 500 ms`, 'server CPU', '% of a core', 'lower', cpuPercent),
        row(`server while ${watchers} browsers watch`, 'server peak RSS', 'MiB', 'lower', peakRss / 1024 / 1024),
      ],
      commands: ['npm run bench -- --only dashboard', `node --conditions=anvil-source --import tsx bench/servers/dashboard-fleet.ts ${HOSTS} <assets>`],
      notes: [
        'No anchor: nothing else serves this page. The server process is measured alone (the browsers and this runner are other processes).',
        'The latency is until every browser shows the change (the slowest of them), with the browsers on the same 2 cores as the server.',
      ],
      load: { before: loadBefore, after: (await import('node:os')).loadavg()[0]! },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await browser.close();
    server.child.kill('SIGTERM');
    await new Promise((r) => (server.child.exitCode !== null ? r(undefined) : server.child.once('exit', r)));
  }
}
