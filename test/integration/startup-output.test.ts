// What the operator and the boot-server print when they start (real processes, a real kube-apiserver, a real
// PostgreSQL): one info line per component once it is ready, with its URLs; a start that fails for an expected reason
// (no kubeconfig, a port in use, a database that refuses) is one error line, with no stack trace.
import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { anvilCrds } from '@anvil/core/api';
import type { KubeObject } from '@anvil/core/kube';
import { freePort, startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, installCrds } from '../harness/kube.js';
import { startPostgres, type RunningPostgres } from '../harness/postgres.js';
import { ROOT, startBootServer, startOperator, type RunningProcess } from '../harness/processes.js';

jest.setTimeout(180_000);

/** A stack frame, printed or inside a JSON string. */
const STACK_TRACE = /(\n|\\n)\s+at /;

interface LogLine {
  level: number;
  component?: string;
  msg: string;
  [field: string]: unknown;
}

let cp: ControlPlane;
let pgServer: RunningPostgres;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anvil-startup-'));
  [cp, pgServer] = await Promise.all([startControlPlane(), startPostgres()]);
  await installCrds(clientFor(cp), anvilCrds as unknown as KubeObject[]);
});
afterAll(async () => {
  await cp?.stop();
  await pgServer?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function parse(output: string): LogLine[] {
  return output
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`not a JSON log line: ${line}\n--- the whole output:\n${output}`);
      }
    });
}

async function waitForLine(proc: RunningProcess, msg: string): Promise<LogLine> {
  for (let i = 0; i < 600; i++) {
    const line = parse(proc.logs()).find((l) => l.msg === msg);
    if (line) return line;
    await sleep(100);
  }
  throw new Error(`no "${msg}" line:\n${proc.logs()}`);
}

/** Runs a component that is expected to fail its start; returns its exit code and everything it printed. */
async function failedStart(main: 'operator' | 'boot-server', args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--conditions=anvil-source', '--import', 'tsx', join(ROOT, main, 'src', 'main.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  try {
    return { code: await exited, output };
  } finally {
    clearTimeout(timer);
  }
}

/** The failure is the last line: one error line, and no stack trace anywhere. */
function expectOneErrorLine(output: string, component: string, message: RegExp): void {
  const lines = parse(output);
  expect(lines.at(-1)).toEqual({ level: 50, time: expect.any(String), component, msg: expect.stringMatching(message) });
  expect(lines.filter((l) => l.level >= 50)).toHaveLength(1);
  expect(output).not.toMatch(STACK_TRACE);
}

async function listening(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, close: () => new Promise((r) => server.close(() => r())) };
}

describe('ready', () => {
  test('the operator: one info line once it is ready, with its URLs', async () => {
    const op = await startOperator({ kubeconfig: cp.kubeconfigPath, namespaces: ['default'], bootServerURL: 'http://127.0.0.1:9', dir, env: { LOG_LEVEL: 'info' } });
    try {
      const ready = await waitForLine(op, 'operator ready');
      expect(ready).toMatchObject({ level: 30, component: 'operator', metrics: `${op.url}/metrics`, health: `${op.url}/healthz`, namespaces: ['default'] });
      expect((await fetch(ready.health as string)).ok).toBe(true);
      expect(parse(op.logs()).filter((l) => l.level >= 40)).toEqual([]);
    } finally {
      await op.kill();
    }
  });

  test('the boot-server: one info line once it is ready, with its URLs', async () => {
    const bs = await startBootServer({ kubeconfig: cp.kubeconfigPath, dir: mkdtempSync(join(dir, 'boot-')), env: { LOG_LEVEL: 'info' } });
    try {
      const ready = await waitForLine(bs, 'boot-server ready');
      expect(ready).toMatchObject({ level: 30, component: 'boot-server', http: bs.url, https: 'off', tftp: 'off', publicURL: bs.url });
      // Warnings about the environment (the embedded database's memory, say) may come; errors and stacks may not.
      expect(parse(bs.logs()).filter((l) => l.level >= 50)).toEqual([]);
      expect(bs.logs()).not.toMatch(STACK_TRACE);
    } finally {
      await bs.kill();
    }
  });
});

describe('an expected failure to start is one error line', () => {
  test('no kubeconfig anywhere', async () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const env = { HOME: home, KUBECONFIG: '' };
    const op = await failedStart('operator', ['--leader-elect', 'false', '--metrics-port', '0'], env);
    expect(op.code).toBe(1);
    expectOneErrorLine(op.output, 'operator', /^cannot start: no kubeconfig: pass --kubeconfig PATH or set KUBECONFIG/);
    const bs = await failedStart('boot-server', ['--http-port', '0', '--tftp-port', '0', '--data-dir', join(home, 'history'), '--spool-dir', join(home, 'spool'), '--asset-dir', join(home, 'assets')], env);
    expect(bs.code).toBe(1);
    expectOneErrorLine(bs.output, 'boot-server', /^cannot start: no kubeconfig/);
  });

  test("a kubeconfig file that isn't there", async () => {
    const missing = join(dir, 'no-such-kubeconfig');
    const op = await failedStart('operator', ['--kubeconfig', missing, '--leader-elect', 'false', '--metrics-port', '0']);
    expect(op.code).toBe(1);
    expectOneErrorLine(op.output, 'operator', new RegExp(`^cannot start: cannot use the kubeconfig ${missing}: no such file$`));
  });

  test("the operator's metrics port is in use", async () => {
    const taken = await listening();
    try {
      const op = await failedStart('operator', ['--kubeconfig', cp.kubeconfigPath, '--leader-elect', 'false', '--metrics-host', '127.0.0.1', '--metrics-port', String(taken.port)]);
      expect(op.code).toBe(1);
      expectOneErrorLine(op.output, 'operator', new RegExp(`^cannot start: 127\\.0\\.0\\.1:${taken.port} is already in use by another process: stop it, or choose another port \\(--metrics-port`));
    } finally {
      await taken.close();
    }
  });

  test("the boot-server's HTTP and TFTP ports are in use", async () => {
    const taken = await listening();
    const home = mkdtempSync(join(dir, 'boot-'));
    const dirs = ['--data-dir', join(home, 'history'), '--spool-dir', join(home, 'spool'), '--asset-dir', join(home, 'assets')];
    try {
      const http = await failedStart('boot-server', ['--kubeconfig', cp.kubeconfigPath, '--http-host', '127.0.0.1', '--http-port', String(taken.port), '--tftp-port', '0', ...dirs]);
      expect(http.code).toBe(1);
      expectOneErrorLine(http.output, 'boot-server', new RegExp(`^cannot start: 127\\.0\\.0\\.1:${taken.port} is already in use by another process`));
    } finally {
      await taken.close();
    }
    const udp: Socket = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    try {
      const tftp = await failedStart('boot-server', ['--kubeconfig', cp.kubeconfigPath, '--http-host', '127.0.0.1', '--http-port', String(await freePort()), '--tftp-host', '127.0.0.1', '--tftp-port', String(udp.address().port), ...dirs]);
      expect(tftp.code).toBe(1);
      expectOneErrorLine(tftp.output, 'boot-server', new RegExp(`^cannot start: 127\\.0\\.0\\.1:${udp.address().port} is already in use by another process: stop it, or choose another port \\(--http-port, --https-port, --tftp-port, --proxy-dhcp-port, --proxy-dhcp-pxe-port, --syslog-port\\)$`));
    } finally {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    }
  });

  test('the history database refuses the connection', async () => {
    const good = new URL(await pgServer.createDatabase('anvil_startup'));
    good.password = 'not-the-password';
    const op = await failedStart('operator', ['--kubeconfig', cp.kubeconfigPath, '--leader-elect', 'false', '--metrics-host', '127.0.0.1', '--metrics-port', '0', '--database-url', good.toString()]);
    expect(op.code).toBe(1);
    expectOneErrorLine(op.output, 'operator', /^cannot start: the install history database refused the connection: password authentication failed for user "postgres" \(SQLSTATE 28P01; check --database-url\)$/);
  });
});
