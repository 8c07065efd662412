// The dashboard with a 10,000-host fleet in chromium: the server sends one page (100 rows), the counts cover the
// whole fleet, and a change pushed by the host source reaches the page (its row, and the counts) without reload.
// The times are printed for information, never asserted: `npm run bench -- --only dashboard` (bench/dashboard.ts) measures them.
import { jest } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { serveDashboard, type DashboardServer } from '@anvil/dashboard';
import { buildWeb } from '@anvil/dashboard/src/build-web.js';
import { FakeAuthorizer, FakeHostSource, fakeHost } from '@anvil/dashboard/src/server/testing/fakes.js';

jest.setTimeout(180_000);

const CHROMIUM = '/usr/bin/chromium';
const maybe = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) console.warn(`dashboard scale test skipped: ${CHROMIUM} is not installed (scripts/setup.sh installs Debian's chromium)`);

const HOSTS = 10_000;
const STATES = ['Provisioned', 'Provisioned', 'Provisioned', 'Ready', 'Installing', 'Failed', 'Pending'];

maybe('the dashboard with 10,000 hosts', () => {
  const hosts = new FakeHostSource(
    Array.from({ length: HOSTS }, (_, i) => fakeHost(`rack-${String(i % 20).padStart(2, '0')}`, `node-${String(i).padStart(5, '0')}`, { state: STATES[i % STATES.length]!, labels: { rack: `r${i % 20}` } })),
  );
  let server: DashboardServer | undefined;
  let browser: Browser | undefined;
  let assetsDir: string | undefined;

  beforeAll(async () => {
    assetsDir = mkdtempSync(join(tmpdir(), 'anvil-dashboard-scale-'));
    await buildWeb(assetsDir);
    const authorizer = new FakeAuthorizer({ 'fleet-token': { username: 'operator-on-call', groups: [] } }, { 'operator-on-call': ['*'] });
    server = await serveDashboard({ port: 0, host: '127.0.0.1', hosts, authorizer, log: pino({ level: 'warn' }), assetsDir, heartbeatMs: 5000 });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (assetsDir) rmSync(assetsDir, { recursive: true, force: true });
  });

  it('shows one page of the fleet with counts of all of it, and follows changes live', async () => {
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${server!.port}/`);
      await page.getByLabel('Kubernetes bearer token').fill('fleet-token');
      const signedIn = Date.now();
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('tr[data-host="rack-00/node-00000"]').waitFor();
      const firstRows = Date.now() - signedIn;
      expect(await page.locator('table.hosts tbody tr').count()).toBe(100);
      await expect(page.locator('table.hosts caption').textContent()).resolves.toBe(`${HOSTS} hosts, 1–100 shown`);
      const counts = await page.locator('[data-count]').allTextContents();
      expect(counts.map(Number).reduce((a, b) => a + b, 0)).toBe(HOSTS);
      const installingBefore = Number(await page.locator('[data-count=Installing]').textContent());
      await page.getByText('Live', { exact: true }).waitFor();

      // node-00000 is Provisioned and on the first page: it starts installing.
      const pushed = Date.now();
      hosts.put(fakeHost('rack-00', 'node-00000', { state: 'Installing', phase: 'extract', labels: { rack: 'r0' } }));
      await page.locator('tr[data-host="rack-00/node-00000"] [data-field=state]', { hasText: 'Installing' }).waitFor({ timeout: 30_000 });
      const rowUpdated = Date.now() - pushed;
      await page.locator('[data-count=Installing]', { hasText: String(installingBefore + 1) }).waitFor({ timeout: 30_000 });
      const countsUpdated = Date.now() - pushed;
      console.log(`dashboard, ${HOSTS} hosts (one run, this machine; not a benchmark): first rows ${firstRows} ms after sign-in, a change on the page ${rowUpdated} ms after the cache saw it, counts ${countsUpdated} ms`);
    } finally {
      await context.close();
    }
  });
});
