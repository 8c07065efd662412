// The anvil CLI as a user runs it: the bundle (npm run build:cli) in its own process, against a real kube-apiserver
// with anvil's operator running, for every command and every error case: how it finds the cluster (--kubeconfig,
// KUBECONFIG lists, ~/.kube/config, --context, in-cluster), output formats, `hosts -w` and `logs -f` following live
// changes (fed the way the boot-server feeds them, through the host's status and through the history API), render,
// diff, reinstall, history, completion, and `kubectl anvil` through kubectl's plugin mechanism.
import { jest } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import { fromSecret } from '@anvil/core/bootconfig';
import { openHistoryStore, type HistoryStore } from '@anvil/core/db';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { historyRouter } from '@anvil/core/history-api';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { freePort, startControlPlane, writeKubeconfig, type ControlPlane } from '../harness/control-plane.js';
import { createMinimalTemplate, HostType, postEvent, recordBoot, subiquityEvents, TEST_PASSWORD_HASH } from '../harness/installer-sim.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { ROOT } from '../harness/processes.js';
import { kubeTools } from '../harness/tools.js';

jest.setTimeout(300_000);

type Host = BareMetalHost & KubeObject;
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const BUNDLE = join(ROOT, 'dist', 'cli', 'anvil.js');
const ns = `cli-${randomUUID().slice(0, 8)}`;
const other = `${ns}-other`;
const TemplateType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true };
/** Generous: the machine may be loaded; never a timing assertion. */
const WAIT_MS = 90_000;

let cp: ControlPlane;
let client: KubeClient;
let manager: Manager | undefined;
let work: string;
/** A home without ~/.kube: the CLI finds no cluster unless told. */
let emptyHome: string;
const running = new Set<ChildProcess>();

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A CLI process; the environment holds only what is given (nothing of the test runner's KUBECONFIG or pod). */
class Cli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Result>;

  constructor(args: readonly string[], env: Record<string, string> = {}, command: readonly string[] = [NODE, BUNDLE]) {
    this.child = spawn(command[0]!, [...command.slice(1), ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: emptyHome, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => (this.stdout += s));
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        running.delete(this.child);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      }),
    );
  }

  async waitFor(what: string, re: RegExp): Promise<void> {
    await waitFor(`${what} in the output of anvil`, async () => re.test(this.stdout) || (this.child.exitCode !== null ? Promise.reject(new Error(`anvil exited ${this.child.exitCode}: ${this.stdout}${this.stderr}`)) : false), WAIT_MS, 50);
  }
}

const anvil = (args: readonly string[], env: Record<string, string> = {}): Promise<Result> => new Cli(args, env).exited;
/** With the test cluster and namespace. */
const kube = (): string[] => ['--kubeconfig', cp.kubeconfigPath, '-n', ns];

function host(name: string, mac: string, extra: { paused?: boolean; labels?: Record<string, string> } = {}): Host {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name, namespace: ns, ...(extra.labels ? { labels: extra.labels } : {}), ...(extra.paused ? { annotations: { 'anvil.dev/paused': 'true' } } : {}) },
    spec: { bootMACAddress: mac, hostname: name, templateRef: { name: 't' }, secretRefs: [{ name: 'creds', key: 'hash', variable: 'hash' }], provisioning: { revision: 1 } },
  } as Host;
}

const getHost = async (name: string, namespace = ns): Promise<Host> => (await client.get<Host>(HostType, { namespace, name }))!;
const published = async (name: string) => {
  const s = await client.get(CoreResources.secret, { namespace: ns, name: `${name}-bootconfig` });
  return s ? fromSecret(s) : undefined;
};
const waitInstallPublished = (name: string) =>
  waitFor(`${name}'s installer published`, async () => (await getHost(name)).status?.state === 'Provisioning' && (await published(name))?.mode === 'install', WAIT_MS);

beforeAll(async () => {
  // The bundle, as `npm run build:cli` makes it.
  execFileSync(NODE, [join(ROOT, 'cli', 'src', 'build.ts')], { stdio: 'pipe' });
  work = mkdtempSync(join(tmpdir(), 'anvil-cli-test-'));
  emptyHome = join(work, 'home');
  mkdirSync(emptyHome);
  cp = await startControlPlane();
  client = clientFor(cp);
  await installCrds(client, anvilCrds as unknown as KubeObject[]);
  await ensureNamespace(client, ns);
  await ensureNamespace(client, other);
  await createMinimalTemplate(client, ns);
  await client.create(HostType, host('node-01', '52:54:00:c1:00:01', { labels: { rack: 'r1' } }));
  await client.create(HostType, host('node-02', '52:54:00:c1:00:02', { labels: { rack: 'r2' } }));
  await client.create(HostType, host('watched', '52:54:00:c1:00:03', { paused: true }));
  await client.create(HostType, { ...host('elsewhere', '52:54:00:c1:00:04', { paused: true }), metadata: { name: 'elsewhere', namespace: other, annotations: { 'anvil.dev/paused': 'true' } } });
  manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'cli-test', namespaces: [ns], resyncPeriodMs: 60_000 });
  registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: 'http://10.0.0.2:8080', retryBaseMs: 3_600_000 });
  await manager.start();
  await waitInstallPublished('node-01');
});

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await manager?.stop();
  await cp?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('help, version and usage errors', () => {
  it('prints the version, and help whose columns line up', async () => {
    expect(await anvil(['--version'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^anvil \d+\.\d+\.\d+\n$/) });
    const version = await anvil(['version', '-o', 'json']);
    expect(JSON.parse(version.stdout)).toMatchObject({ version: expect.any(String), node: process.version });

    const help = await anvil(['--help']);
    expect(help.code).toBe(0);
    const commandLines = help.stdout.split('\n').filter((l) => /^ {2}(hosts|logs|render|diff|reinstall|history|validate|completion|version|help)\b/.test(l));
    expect(commandLines).toHaveLength(10);
    // Every description starts in the same column.
    expect(new Set(commandLines.map((l) => l.search(/ {3}\S/)))).toHaveProperty('size', 1);
    expect(help.stdout).not.toContain('__complete');

    const hostsHelp = await anvil(['hosts', '--help']);
    expect(hostsHelp.stdout).toContain('Usage:\n  anvil hosts [NAME...] [flags]');
    const flagLines = hostsHelp.stdout.split('\n').filter((l) => /^ {2}(-\w, | {4})--/.test(l));
    expect(flagLines.length).toBeGreaterThan(8);
    expect(new Set(flagLines.map((l) => l.search(/\S {3,}\S/) + l.slice(l.search(/\S {3,}\S/)).search(/ \S/) + 1))).toHaveProperty('size', 1);
    expect((await anvil(['help', 'hosts'])).stdout).toBe(hostsHelp.stdout);
  });

  it('refuses an unknown command or flag, a missing argument and a wrong -o, saying what was meant', async () => {
    const bogus = await anvil(['bogus']);
    expect(bogus).toMatchObject({ code: 2, stdout: '' });
    expect(bogus.stderr).toBe('anvil: unknown command "bogus" for "anvil". Run \'anvil help\' for the list of commands.\n');
    expect((await anvil(['hots'])).stderr).toMatch(/^anvil: unknown command "hots" for "anvil"; did you mean "hosts"\?/);
    expect((await anvil(['hosts', '--wacth'])).stderr).toMatch(/^anvil: unknown flag --wacth for "anvil hosts"; did you mean --watch\?/);
    expect((await anvil(['render', 'x', '-w'])).stderr).toMatch(/unknown flag -w for "anvil render" \(it is a flag of hosts\)/);
    const missing = await anvil(['render']);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/^anvil: render needs a HOST\. Usage: anvil render HOST \[flags\]\n$/) });
    const output = await anvil(['hosts', '-o', 'jsn', ...kube()]);
    expect(output).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown output format "jsn" for "anvil hosts"; did you mean "json"\? \(one of: wide, json, yaml, name\)/) });
    expect((await anvil(['history', 'node-01'])).stderr).toMatch(/history needs exactly one of --api URL, --database-url URL, --data-dir DIR/);
    for (const r of [bogus, missing, output]) expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('finding the cluster', () => {
  it('says how to fix a missing kubeconfig, in one line, exit code 3', async () => {
    const r = await anvil(['hosts']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^anvil: no cluster configured: no kubeconfig at .*\.kube\/config, and not running in a pod\. Set KUBECONFIG or pass --kubeconfig PATH.*\n$/);
    expect((await anvil(['hosts', '--kubeconfig', join(work, 'nope')])).stderr).toMatch(/kubeconfig .*nope \(from --kubeconfig\) does not exist/);
  });

  it('says which cluster it could not reach, exit code 3', async () => {
    const port = await freePort(); // nothing listens there
    const dead = join(work, 'dead.kubeconfig');
    writeKubeconfig(dead, `https://127.0.0.1:${port}`, cp.caFile, cp.token);
    for (const command of [['hosts'], ['render', 'node-01'], ['logs', 'node-01'], ['reinstall', 'node-01'], ['diff', 'node-01']]) {
      const r = await anvil([...command, '--kubeconfig', dead]);
      expect({ command, code: r.code }).toEqual({ command, code: 3 });
      expect(r.stderr).toBe(`anvil: cannot reach the cluster at https://127.0.0.1:${port} (context "anvil-test" of ${dead}): connection refused. Is the API server running and reachable from here? Check --context and the kubeconfig (--kubeconfig, KUBECONFIG).\n`);
    }
    const badToken = join(work, 'bad-token.kubeconfig');
    writeKubeconfig(badToken, cp.server, cp.caFile, 'not-a-token');
    expect(await anvil(['hosts', '--kubeconfig', badToken])).toMatchObject({ code: 3, stderr: expect.stringMatching(/refused the credentials .*401 Unauthorized/) });
  });

  it('merges the KUBECONFIG list, honours --context and the context namespace, and reads ~/.kube/config', async () => {
    const port = await freePort();
    const first = join(work, 'first.kubeconfig');
    const second = join(work, 'second.kubeconfig');
    // first: the current-context, pointing nowhere; second: the real cluster under another name, namespace ns
    writeKubeconfig(first, `https://127.0.0.1:${port}`, cp.caFile, cp.token);
    writeFileSync(second, readFileSync(cp.kubeconfigPath, 'utf8').replaceAll('anvil-test', 'real').replace('namespace: default', `namespace: ${ns}`).replace(/current-context: .*/, 'current-context: real'));
    const list = `${join(work, 'missing.kubeconfig')}:${first}:${second}`;
    expect((await anvil(['hosts'], { KUBECONFIG: list })).code).toBe(3); // first's current-context wins
    const viaContext = await anvil(['hosts', '--context', 'real'], { KUBECONFIG: list });
    expect(viaContext).toMatchObject({ code: 0, stdout: expect.stringMatching(/^NAME +STATE.*\nnode-01 +/) });
    expect(await anvil(['hosts', '--context', 'nope'], { KUBECONFIG: list })).toMatchObject({ code: 3, stderr: expect.stringMatching(/context "nope" \(from --context\) is not in kubeconfig .*Contexts there: anvil-test, real\./) });

    const home = join(work, 'home-with-config');
    mkdirSync(join(home, '.kube'), { recursive: true });
    copyFileSync(second, join(home, '.kube', 'config'));
    const fromHome = await anvil(['hosts', '-n', other], { HOME: home });
    expect(fromHome).toMatchObject({ code: 0, stdout: expect.stringMatching(/^NAME .*\nelsewhere +/) });
  });

  it('runs in a pod with the service account (in-cluster), in its namespace', async () => {
    const sa = join(work, 'serviceaccount');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), `${cp.token}\n`);
    copyFileSync(cp.caFile, join(sa, 'ca.crt'));
    writeFileSync(join(sa, 'namespace'), other);
    const r = await anvil(['hosts', '-o', 'name'], { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(cp.port), ANVIL_SERVICE_ACCOUNT_DIR: sa });
    expect(r).toMatchObject({ code: 0, stdout: 'baremetalhost.anvil.dev/elsewhere\n' });
  });
});

describe('hosts', () => {
  it('prints a table, wide, JSON, YAML and names; filters by label; -A across namespaces', async () => {
    const table = await anvil(['hosts', ...kube()]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME +STATE +MAC +TEMPLATE +PROGRESS +ATTEMPT +AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['node-01', 'node-02', 'watched']);
    expect(table.stdout).toMatch(/node-01 +Provisioning +52:54:00:c1:00:01 +t +waiting for boot +1 +\d+[smhd]/);

    const wide = await anvil(['hosts', '-o', 'wide', ...kube()]);
    expect(wide.stdout.split('\n')[0]).toMatch(/AGE +HOSTNAME +REVISION +INSTALLED +POWER +LAST-BOOT +MESSAGE$/);

    const json = JSON.parse((await anvil(['hosts', '-o', 'json', ...kube()])).stdout) as { kind: string; items: Host[] };
    expect(json.kind).toBe('List');
    expect(json.items.map((h) => h.metadata.name).sort()).toEqual(['node-01', 'node-02', 'watched']);
    const yaml = await anvil(['hosts', 'node-01', '-o', 'yaml', ...kube()]);
    expect(yaml.stdout).toMatch(/^apiVersion: anvil\.dev\/v1alpha1\nkind: BareMetalHost\n/);
    expect(yaml.stdout).toContain('bootMACAddress: 52:54:00:c1:00:01');

    expect((await anvil(['hosts', '-l', 'rack=r2', '-o', 'name', ...kube()])).stdout).toBe('baremetalhost.anvil.dev/node-02\n');
    const all = await anvil(['hosts', '-A', '--no-headers', '--kubeconfig', cp.kubeconfigPath]);
    expect(all.stdout.trimEnd().split('\n').map((l) => l.split(/\s+/).slice(0, 2).join('/'))).toEqual([`${ns}/node-01`, `${ns}/node-02`, `${ns}/watched`, `${other}/elsewhere`]);
    const empty = await anvil(['hosts', '--kubeconfig', cp.kubeconfigPath, '-n', 'default']);
    expect(empty).toMatchObject({ code: 0, stdout: '', stderr: 'No BareMetalHosts found in namespace default.\n' });
  });

  it('says so for an unknown host, exit code 4', async () => {
    const r = await anvil(['hosts', 'nope', ...kube()]);
    expect(r).toMatchObject({ code: 4, stdout: '', stderr: `anvil: BareMetalHost ${ns}/nope not found\n` });
    for (const command of ['render', 'diff', 'logs', 'reinstall']) {
      const c = await anvil([command, 'nope', ...kube()]);
      expect({ command, code: c.code, stderr: c.stderr }).toEqual({ command, code: 4, stderr: expect.stringMatching(new RegExp(`^anvil: BareMetalHost ${ns}/nope not found\\. `)) });
    }
  });

  it('-w prints the table, then a line per change, and ends cleanly on SIGINT', async () => {
    const watch = new Cli(['hosts', '-w', '-l', '!rack', ...kube()]);
    await watch.waitFor('the table', /^NAME .*\nwatched +Pending/);
    await client.patch(HostType, { namespace: ns, name: 'watched' }, 'merge', { status: { state: 'Provisioning', currentInstall: { attempt: 1, revision: 1, startedAt: new Date().toISOString(), progress: 'waiting for boot' } } }, { subresource: 'status' });
    await watch.waitFor('the change', /\nwatched +Provisioning +52:54:00:c1:00:03 +t +waiting for boot +1 /);
    // A change that shows in no column prints nothing; the next one that does is printed once.
    await client.patch(HostType, { namespace: ns, name: 'watched' }, 'merge', { metadata: { labels: { color: 'blue' } } });
    await client.patch(HostType, { namespace: ns, name: 'watched' }, 'merge', { status: { currentInstall: { progress: '3/8 partitioning' } } }, { subresource: 'status' });
    await watch.waitFor('the second change', /3\/8 partitioning/);
    watch.child.kill('SIGINT');
    const r = await watch.exited;
    expect(r).toMatchObject({ code: 130, stderr: '' });
    expect(r.stdout.trimEnd().split('\n').map((l) => l.split(/\s{3,}/).slice(0, 2).join(' '))).toEqual(['NAME STATE', 'watched Pending', 'watched Provisioning', 'watched Provisioning']);
  });

  it('-w --output-watch-events starts each line with the event', async () => {
    const watch = new Cli(['hosts', '-w', '--output-watch-events', '-l', '!rack', ...kube()]);
    await watch.waitFor('the table', /^EVENT +NAME +STATE .*\nADDED +watched +/);
    await client.patch(HostType, { namespace: ns, name: 'watched' }, 'merge', { status: { currentInstall: { progress: '5/8 curthooks' } } }, { subresource: 'status' });
    await watch.waitFor('the change', /\nMODIFIED +watched +Provisioning .* 5\/8 curthooks /);
    watch.child.kill('SIGINT');
    expect(await watch.exited).toMatchObject({ code: 130, stderr: '' });
  });

  it('-w ends quietly when its reader goes away', async () => {
    const watch = new Cli(['hosts', '-w', '-o', 'name', ...kube()]);
    await watch.waitFor('the names', /watched\n/);
    watch.child.stdout!.destroy();
    await client.patch(HostType, { namespace: ns, name: 'watched' }, 'merge', { status: { currentInstall: { progress: '4/8 extract' } } }, { subresource: 'status' });
    expect(await watch.exited).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('render, reinstall', () => {
  it('render prints what the host would receive, secrets masked', async () => {
    const r = await anvil(['render', 'node-01', ...kube()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# template chain: t\n# content hash: sha256:[0-9a-f]+\n/);
    expect(r.stdout).toContain('--- boot.ipxe\n#!ipxe\n');
    // the operator's --boot-server-url, read from the published config
    expect(r.stdout).toContain('kernel http://10.0.0.2:8080/assets/');
    expect(r.stdout).toContain('endpoint: http://10.0.0.2:8080/webhook/52-54-00-c1-00-01/TOKEN');
    expect(r.stdout).toContain('password: "<secret:hash>"');
    expect(r.stdout).not.toContain(TEST_PASSWORD_HASH);
    const json = JSON.parse((await anvil(['render', 'node-01', '-o', 'json', '--boot-server-url', 'http://boot.test', ...kube()])).stdout) as { files: Record<string, string> };
    expect(Object.keys(json.files)).toEqual(['boot.ipxe', 'user-data', 'meta-data', 'assets', 'template']);
    expect(json.files['boot.ipxe']).toContain('kernel http://boot.test/assets/');
  });

  it('render shows an Ignition host the files it fetches: the Ignition config, no NoCloud seed', async () => {
    await client.create(TemplateType, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'AutoinstallTemplate',
      metadata: { name: 'flatcar', namespace: other },
      spec: {
        installer: 'ignition',
        boot: { kernel: { url: 'http://127.0.0.1:9/vmlinuz', sha256: 'a'.repeat(64) }, initrd: { url: 'http://127.0.0.1:9/initrd', sha256: 'b'.repeat(64) } },
        ignition: 'ignition:\n  version: 3.3.0\nstorage:\n  files:\n    - path: /etc/hostname\n      contents:\n        source: {{ ("data:," ~ host.hostname) | json }}\n',
      },
    } as KubeObject);
    await client.create(HostType, { ...host('flatcar-01', '52:54:00:c1:00:05', { paused: true }), metadata: { name: 'flatcar-01', namespace: other, annotations: { 'anvil.dev/paused': 'true' } }, spec: { bootMACAddress: '52:54:00:c1:00:05', hostname: 'flatcar-01', templateRef: { name: 'flatcar' }, provisioning: { revision: 1 } } } as Host);
    const r = await anvil(['render', 'flatcar-01', '-o', 'json', '--boot-server-url', 'http://boot.test', '--kubeconfig', cp.kubeconfigPath, '-n', other]);
    expect(r.stderr).toBe('');
    const json = JSON.parse(r.stdout) as { files: Record<string, string> };
    expect(Object.keys(json.files)).toEqual(['boot.ipxe', 'ignition.json', 'assets', 'template']);
    expect(json.files['boot.ipxe']).toMatch(/ignition\.config\.url=http:\/\/boot\.test\/ignition\/52-54-00-c1-00-05\/TOKEN\/\S+/);
    const ignition = JSON.parse(json.files['ignition.json']!) as { ignition: { version: string }; systemd: { units: { name: string }[] } };
    expect(ignition.ignition.version).toBe('3.3.0');
    expect(ignition.systemd.units.map((u) => u.name)).toContain('anvil-report-finish.service');
  });

  it('reinstall bumps the revision (not with --dry-run)', async () => {
    const before = (await getHost('node-02')).spec.provisioning?.revision ?? 0;
    expect(await anvil(['reinstall', 'node-02', '--dry-run', ...kube()])).toMatchObject({ code: 0, stdout: `BareMetalHost ${ns}/node-02: spec.provisioning.revision would be set to ${before + 1} (dry run: nothing changed)\n` });
    expect((await getHost('node-02')).spec.provisioning?.revision).toBe(before);
    expect(await anvil(['reinstall', 'node-02', ...kube()])).toMatchObject({ code: 0, stdout: `BareMetalHost ${ns}/node-02: spec.provisioning.revision set to ${before + 1}; it will be reinstalled\n` });
    expect((await getHost('node-02')).spec.provisioning?.revision).toBe(before + 1);
  });
});

describe('logs', () => {
  it('-f follows an install through the host status until the result', async () => {
    await client.create(HostType, host('live', '52:54:00:c1:00:05'));
    await waitInstallPublished('live');
    const installationId = (await getHost('live')).status!.currentInstall!.installationId!;
    const snapshot = await anvil(['logs', 'live', ...kube()]);
    expect(snapshot).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^\\S+Z  attempt  1 \\(revision 1, installation ${installationId}\\)\\n$`)) });

    const follow = new Cli(['logs', 'live', '-f', ...kube()]);
    await follow.waitFor('the attempt', /attempt {2}1 /);
    await recordBoot(client, ns, 'live');
    await follow.waitFor('the boot request', /boot {5}InstallScript to 10\.0\.0\.50 {2}\/boot\.ipxe/);
    await follow.waitFor('the state change', /state {4}Provisioning -> Installing/);
    for (const event of subiquityEvents('SUCCESS')) {
      await postEvent(client, ns, 'live', installationId, event);
      const shown = new RegExp(`  ${event.event_type.padEnd(7)}  ${event.name.replace(/[/]/g, '\\/')}${event.result ? `  ${event.result}` : ''}`);
      await follow.waitFor(`${event.event_type} ${event.name}`, shown);
    }
    const r = await follow.exited;
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/result {3}SUCCESS\n/);
  });

  it('-f --api follows every installer event from the history API', async () => {
    const store: HistoryStore = await openHistoryStore({ dataDir: 'memory://' });
    const app = express();
    app.use(historyRouter(store));
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const installationId = randomUUID();
      // No cluster needed: no kubeconfig at all.
      const follow = new Cli(['logs', 'api-host', '-n', ns, '--api', api, '-f', '--poll-interval', '100ms']);
      await follow.waitFor('the wait', /no installations recorded; waiting for one/);
      await store.recordInstallStarted({ installationId, host: { namespace: ns, name: 'api-host', uid: 'u1' }, mac: '52:54:00:c1:00:09', template: { name: 't' }, revision: 1, attempt: 1, startedAt: new Date() });
      await follow.waitFor('the attempt', new RegExp(`attempt  1 \\(revision 1, installation ${installationId}\\)`));
      const events = subiquityEvents('FAIL');
      for (const [i, event] of events.entries()) {
        await store.recordInstallerEvents([{ installationId, event, receivedAt: new Date() }]);
        // every event, in order, none skipped (the status would show only the latest)
        if (i % 4 === 3) await follow.waitFor(`event ${i}`, new RegExp(`${event.name.replace(/[/]/g, '\\/')}${event.result ? `  ${event.result}` : ''}`));
      }
      await store.recordInstallFinished({ installationId, result: 'FAIL', finishedAt: new Date(), reason: 'InstallerFailed', failedStage: 'curthooks', message: 'curtin command curthooks failed' });
      const r = await follow.exited;
      expect(r).toMatchObject({ code: 1, stderr: '' });
      const eventLines = r.stdout.split('\n').filter((l) => /Z {2}(start|finish) /.test(l));
      expect(eventLines).toHaveLength(events.length);
      expect(r.stdout).toMatch(/result {3}FAIL {2}curthooks: InstallerFailed: curtin command curthooks failed\n$/);

      const history = await anvil(['history', 'api-host', '-n', ns, '--api', api]);
      expect(history).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^BareMetalHost ${ns}/api-host: 1 installation`)) });
      const asJson = JSON.parse((await anvil(['history', 'api-host', '-n', ns, '--api', api, '-o', 'json'])).stdout) as { installations: { id: string; result: string }[] };
      expect(asJson.installations).toEqual([expect.objectContaining({ id: installationId, result: 'FAIL' })]);
      const deadPort = await freePort(); // nothing listens there
      expect(await anvil(['history', 'api-host', '-n', ns, '--api', `http://127.0.0.1:${deadPort}`])).toMatchObject({ code: 4, stderr: `anvil: cannot read the install history at http://127.0.0.1:${deadPort}: ECONNREFUSED\n` });
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await store.close();
    }
  });
});

describe('completion and kubectl anvil', () => {
  it('completes commands, flags, -o values and host names from the cluster, in bash', async () => {
    expect((await anvil(['__complete', 'hos'])).stdout).toBe('hosts\tList BareMetalHosts: state, MAC, template, progress, attempt\n:4\n');
    expect((await anvil(['__complete', 'hosts', '-o', ''])).stdout).toBe('wide\njson\nyaml\nname\n:4\n');
    expect((await anvil(['__complete', 'render', ...kube(), 'no'])).stdout).toBe('node-01\nnode-02\n:4\n');
    expect((await anvil(['__complete', 'validate', ''])).stdout).toBe(':0\n');
    const script = await anvil(['completion', 'bash']);
    expect(script.code).toBe(0);
    const scriptFile = join(work, 'anvil.bash');
    writeFileSync(scriptFile, script.stdout);
    // The script calls `anvil`: here a function running the bundle.
    const bash = `anvil() { "${NODE}" "${BUNDLE}" "$@"; }; source "${scriptFile}"; COMP_WORDS=(anvil diff --kubeconfig "${cp.kubeconfigPath}" -n ${ns} w); COMP_CWORD=6; _anvil_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const completed = await new Cli(['-c', bash], {}, ['bash']).exited;
    expect(completed).toMatchObject({ code: 0, stdout: 'watched\n' });
    expect((await anvil(['completion', 'zsh'])).stdout).toMatch(/^#compdef anvil\n/);
    expect(await anvil(['completion', 'fish'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown SHELL "fish" .*\(one of: bash, zsh\)/) });
  });

  it('runs as `kubectl anvil` through kubectl\'s plugin lookup, and from scripts/anvil', async () => {
    const bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(join(ROOT, 'scripts', 'kubectl-anvil'), join(bin, 'kubectl-anvil'));
    const { kubectl } = kubeTools();
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
    const plugin = await new Cli(['anvil', 'hosts', ...kube()], env, [kubectl]).exited;
    expect(plugin).toMatchObject({ code: 0, stdout: expect.stringMatching(/^NAME +STATE/) });
    expect(await new Cli(['anvil', 'bogus'], env, [kubectl]).exited).toMatchObject({ code: 2, stderr: expect.stringMatching(/^kubectl anvil: unknown command "bogus" for "kubectl anvil"\./) });
    expect(await new Cli(['--version'], {}, [join(ROOT, 'scripts', 'anvil')]).exited).toMatchObject({ code: 0, stdout: expect.stringMatching(/^anvil /) });
  });
});

describe('diff', () => {
  // Last: it stops the operator, so that nothing re-renders the host while the test compares.
  it('shows nothing for an unchanged host, then what an edited template would change', async () => {
    const same = await anvil(['diff', 'node-01', ...kube()]);
    expect(same).toMatchObject({ code: 0, stdout: '', stderr: expect.stringMatching(/^anvil: [^:]+\/node-01: no differences \(attempt 1, revision 1\)\n$/) });
    await manager!.stop();
    manager = undefined;
    const template = await client.get<KubeObject & { spec: { userData: string } }>(TemplateType, { namespace: ns, name: 't' });
    await client.patch(TemplateType, { namespace: ns, name: 't' }, 'merge', { spec: { userData: template!.spec.userData.replace('username: u', 'username: admin') } });
    const token = (await published('node-01'))!.install!.token;
    const changed = await anvil(['diff', 'node-01', ...kube()]);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/^--- published\/user-data\n\+\+\+ rendered\/user-data\n@@ -\d+(,\d+)? \+\d+(,\d+)? @@\n/);
    expect(changed.stdout).toMatch(/\n- {4}username: u\n\+ {4}username: admin\n/);
    expect(changed.stdout).toMatch(/--- published\/template\n\+\+\+ rendered\/template\n@@ -1,2 \+1,2 @@\n name: t\n-contentHash: sha256:\w+\n\+contentHash: sha256:\w+\n/);
    expect(changed.stdout).not.toContain('boot.ipxe'); // same kernel, args and URLs
    expect(changed.stdout).not.toContain(token);
    expect(changed.stdout).not.toContain(TEST_PASSWORD_HASH);
    const elsewhere = await anvil(['diff', 'node-01', '--boot-server-url', 'http://10.9.9.9', ...kube()]);
    expect(elsewhere.stdout).toMatch(/\n-kernel http:\/\/10\.0\.0\.2:8080\/assets\/.*\n-initrd .*\n\+kernel http:\/\/10\.9\.9\.9\/assets\//);
    expect(await anvil(['diff', 'watched', ...kube()])).toMatchObject({ code: 0, stderr: expect.stringMatching(/no boot config is published for .*\/watched/) });
  });
});
