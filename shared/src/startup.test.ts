import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartupError, describeStartupFailure, loadKubeConfigOrExplain, urlHostPort } from './startup.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'anvil-startup-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:6443" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`;

describe('loadKubeConfigOrExplain', () => {
  test('no --kubeconfig, no KUBECONFIG, no ~/.kube/config: says how to give one', () => {
    expect(() => loadKubeConfigOrExplain(undefined, {}, home)).toThrow(
      new StartupError(`no kubeconfig: pass --kubeconfig PATH or set KUBECONFIG (none at ${home}/.kube/config, and not running in a Pod)`),
    );
  });

  test('a file that is missing, a directory, or not YAML: one line naming it', () => {
    expect(() => loadKubeConfigOrExplain(join(home, 'nope'), {}, home)).toThrow(new StartupError(`cannot use the kubeconfig ${home}/nope: no such file`));
    expect(() => loadKubeConfigOrExplain(home, {}, home)).toThrow(new StartupError(`cannot use the kubeconfig ${home}: a directory, not a file`));
    writeFileSync(join(home, 'broken'), 'clusters: [\n');
    const err = (() => {
      try {
        loadKubeConfigOrExplain(join(home, 'broken'), {}, home);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(StartupError);
    expect(err?.message).toMatch(new RegExp(`^cannot use the kubeconfig ${home}/broken: [^\\n]+$`));
  });

  test('a good file is loaded', () => {
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), KUBECONFIG);
    expect(loadKubeConfigOrExplain(join(home, '.kube', 'config'), {}, home).getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  });
});

describe('describeStartupFailure', () => {
  test('a port in use, from a real listen()', async () => {
    const first = createServer();
    await new Promise<void>((r) => first.listen(0, '127.0.0.1', r));
    const port = (first.address() as { port: number }).port;
    const second = createServer();
    const err = await new Promise<Error>((resolve) => second.once('error', resolve).listen(port, '127.0.0.1'));
    await new Promise((r) => first.close(r));
    expect(describeStartupFailure(err, '--http-port')).toBe(`127.0.0.1:${port} is already in use by another process: stop it, or choose another port (--http-port)`);
  });

  test('an address not on this machine, a privileged port, IPv6', () => {
    expect(describeStartupFailure(Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL', syscall: 'listen', address: '10.9.9.9', port: 80 }))).toBe(
      'cannot listen on 10.9.9.9:80: not an address of this machine',
    );
    expect(describeStartupFailure(Object.assign(new Error('x'), { code: 'EACCES', syscall: 'bind', address: '::', port: 69 }))).toBe(
      'not allowed to listen on [::]:69: ports below 1024 need root (or CAP_NET_BIND_SERVICE)',
    );
  });

  test('a database that refused, a StartupError; anything else is not expected', () => {
    const refused = Object.assign(new Error('password authentication failed for user "anvil"'), { severity: 'FATAL', code: '28P01' });
    expect(describeStartupFailure(refused)).toBe('the install history database refused the connection: password authentication failed for user "anvil" (SQLSTATE 28P01; check --database-url)');
    expect(describeStartupFailure(new StartupError('no kubeconfig'))).toBe('no kubeconfig');
    expect(describeStartupFailure(new TypeError('x is undefined'))).toBeUndefined();
    expect(describeStartupFailure(Object.assign(new Error('ENOENT'), { code: 'ENOENT', syscall: 'open' }))).toBeUndefined();
    expect(describeStartupFailure('a string')).toBeUndefined();
  });
});

test('urlHostPort brackets IPv6 addresses', () => {
  expect(urlHostPort('0.0.0.0', 8080)).toBe('0.0.0.0:8080');
  expect(urlHostPort('::1', 8080)).toBe('[::1]:8080');
});
