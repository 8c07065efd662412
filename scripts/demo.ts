// The demo (the README's first command): a real kube-apiserver on loopback (or your cluster with --kubeconfig),
// anvil's CRDs, the operator and the boot-server as local processes on the embedded history database, and a QEMU VM
// in a private network namespace that PXE-boots through anvil, "installs" (a small busybox initrd that sends real
// installer-shaped events) and ends Provisioned. Prints the host's timeline, then keeps running until Ctrl-C
// (--check: exits once Provisioned, for the test suite). Everything it starts is stopped and removed on exit.
// Without root or the QEMU/dnsmasq packages it runs the control plane and the operator only, and says why.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { anvilCrds } from '@anvil/core/api';
import { CoreResources, type KubeObject } from '@anvil/core/kube';
import { renderTimeline, timelineFromApi } from '@anvil/cli/src/history.js';
import { freePort, startControlPlane, type ControlPlane } from '../test/harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds } from '../test/harness/kube.js';
import { RestKubeClient, loadKubeConfig } from '@anvil/core/kube/rest-client';
import { kubeTools } from '../test/harness/tools.js';
import { allocateLabNetwork, bootVm, buildTestInstaller, labMissing, startLab, type Lab } from '../test/harness/pxe-lab.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: flags } = parseArgs({ options: { check: { type: 'boolean' }, kubeconfig: { type: 'string' } } });
const check = flags.check ?? false;
const NS = 'anvil-demo';
const MAC = '52:54:00:de:00:01';
const HostType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'BareMetalHost', plural: 'baremetalhosts', namespaced: true };
const TemplateType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true };
// The password hash of the demo user ("anvil"); the test installer never sets it on a disk.
const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';

const say = (s: string) => console.log(`[demo] ${s}`);
const work = mkdtempSync(join(tmpdir(), 'anvil-demo-'));
const children: ChildProcess[] = [];
const cleanups: (() => Promise<unknown> | unknown)[] = [];
let stopping: Promise<never> | undefined;

/** Stops and removes everything, then exits with `code`. Later calls (a second Ctrl-C, an error the teardown itself
 * causes in main) wait for the first one rather than exit half-way through the cleanups. */
function stopAll(code: number): Promise<never> {
  stopping ??= (async () => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    for (const f of cleanups.reverse()) await Promise.resolve(f()).catch(() => undefined);
    if (code === 0 || check) rmSync(work, { recursive: true, force: true });
    else console.error(`[demo] logs kept in ${work}`);
    process.exit(code);
  })();
  return stopping;
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

function start(name: string, entry: string, args: string[]): ChildProcess {
  const fd = openSync(join(work, `${name}.log`), 'a');
  const child = spawn(process.execPath, ['--conditions=anvil-source', '--import', 'tsx', join(ROOT, entry), ...args], { stdio: ['ignore', fd, fd], env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' } });
  closeSync(fd);
  children.push(child);
  child.once('exit', (code) => {
    if (!stopping) {
      console.error(`[demo] ${name} exited with ${code}:\n${readFileSync(join(work, `${name}.log`), 'utf8').slice(-3000)}`);
      void stopAll(1);
    }
  });
  return child;
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main(): Promise<void> {
  // 1. A control plane: the user's cluster, or a real kube-apiserver + etcd on loopback.
  let kubeconfig: string;
  let cp: ControlPlane | undefined;
  if (flags.kubeconfig) {
    kubeconfig = flags.kubeconfig;
    say(`using the cluster in ${kubeconfig}`);
  } else {
    say('starting a kube-apiserver and etcd on loopback');
    cp = await startControlPlane({ controllerManager: true });
    cleanups.push(() => cp!.stop());
    kubeconfig = cp.kubeconfigPath;
  }
  const client = cp ? clientFor(cp) : new RestKubeClient(loadKubeConfig(kubeconfig), { userAgent: 'anvil-demo' });
  await installCrds(client, anvilCrds as unknown as KubeObject[]);
  await ensureNamespace(client, NS);
  const { kubectl } = kubeTools();
  const kctl = (...args: string[]) => execFileSync(kubectl, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: 'utf8' });

  // 2. Can this machine run the VM? (root, QEMU, dnsmasq for addresses, busybox from scripts/setup.sh)
  const missing = labMissing();
  if (missing) say(`no VM this time: ${missing}. Running the operator only; the host will wait in Provisioning.`);

  // 3. The test installer, served by a local "mirror" the boot-server's asset cache downloads from.
  const bootPort = await freePort();
  let bootHost = '127.0.0.1';
  let lab: Lab | undefined;
  let mirrorURL = 'http://127.0.0.1:9/';
  let sums = { kernel: '0'.repeat(64), initrd: '0'.repeat(64) };
  if (!missing) {
    say('building the test installer (Debian netboot kernel + a busybox initrd; cached after the first run)');
    const installer = buildTestInstaller();
    const files: Record<string, Buffer> = { '/linux': readFileSync(installer.kernel), '/initrd.gz': readFileSync(installer.initrd) };
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    sums = { kernel: sha(files['/linux']!), initrd: sha(files['/initrd.gz']!) };
    const mirror = createServer((req, res) => {
      const body = files[req.url ?? ''];
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Length': body.length }).end(body);
    });
    const mirrorPort = await freePort();
    await new Promise<void>((r) => mirror.listen(mirrorPort, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => mirror.close(r)));
    mirrorURL = `http://127.0.0.1:${mirrorPort}/`;
    // A namespace and subnet of this run's own, so the tests or the benchmarks can run beside the demo.
    const net = allocateLabNetwork();
    bootHost = net.hostIP;
    // dnsmasq hands out addresses only: which file to boot, anvil's proxyDHCP says (no PXE option in any DHCP server)
    say(`creating the provisioning network: namespace ${net.ns}, bridge, tap, dnsmasq (addresses only) -> anvil's proxyDHCP at ${net.hostIP}`);
    lab = await startLab({ net, addressesOnly: true, ipxeBootURL: '', tftpBootFile: '' });
    cleanups.push(() => lab!.stop());
  }

  // 4. anvil: the boot-server (TFTP + HTTP, embedded history database) and the operator.
  const bootURL = `http://${bootHost}:${bootPort}`;
  say(`starting the boot-server at ${bootURL}${lab ? ` with tftp://${bootHost} and its proxyDHCP` : ''}`);
  start('boot-server', 'boot-server/src/main.ts', [
    '--kubeconfig', kubeconfig, '--namespace', NS,
    '--http-host', bootHost, '--http-port', String(bootPort), '--public-url', bootURL,
    '--tftp-host', bootHost, '--tftp-port', lab ? '69' : '0',
    '--asset-dir', join(work, 'assets'), '--spool-dir', join(work, 'spool'), '--data-dir', join(work, 'history'),
    ...(lab ? ['--proxy-dhcp', 'true'] : []),
  ]);
  const metricsPort = await freePort();
  const dashboardPort = await freePort();
  // the dashboard's browser app, bundled as `npm run build` does (a second or two)
  execFileSync(process.execPath, [join(ROOT, 'dashboard', 'src', 'build-web.ts')], { stdio: 'pipe' });
  say('starting the operator');
  start('operator', 'operator/src/main.ts', ['--kubeconfig', kubeconfig, '--namespace', NS, '--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1', '--boot-server-url', bootURL, '--leader-election-namespace', NS, '--dashboard-port', String(dashboardPort)]);
  await waitUntil('the boot-server', async () => (await fetch(`${bootURL}/readyz`)).ok, 60_000);
  await waitUntil('the operator', async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).ok, 60_000);

  // 5. What a user applies: a Secret, an AutoinstallTemplate and a BareMetalHost.
  say('applying a Secret, an AutoinstallTemplate and a BareMetalHost');
  await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'demo-credentials', namespace: NS }, stringData: { passwordHash: HASH } });
  await client.create(TemplateType, {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'AutoinstallTemplate',
    metadata: { name: 'demo-installer', namespace: NS },
    spec: {
      boot: {
        kernel: { url: `${mirrorURL}linux`, sha256: sums.kernel },
        initrd: { url: `${mirrorURL}initrd.gz`, sha256: sums.initrd },
        kernelArgs: 'console=ttyS0 quiet anvil_test_result=SUCCESS',
      },
      userData: '#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: {{ host.hostname | yaml }}\n    username: demo\n    password: {{ passwordHash | yaml }}\n',
    },
  });
  await client.create(HostType, {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name: 'vm-01', namespace: NS },
    spec: { bootMACAddress: MAC, hostname: 'vm-01', templateRef: { name: 'demo-installer' }, secretRefs: [{ name: 'demo-credentials', key: 'passwordHash', variable: 'passwordHash' }] },
  });
  const state = async () => ((await client.get<KubeObject & { status?: { state?: string } }>(HostType, { namespace: NS, name: 'vm-01' }))?.status?.state ?? '');
  await waitUntil('vm-01 to be Provisioning', async () => (await state()) === 'Provisioning', 60_000);
  console.log('\n' + kctl('get', 'bmh', '-n', NS, '-o', 'wide'));

  // 6. The VM: PXE -> anvil's TFTP -> iPXE -> anvil's HTTP -> kernel + initrd -> NoCloud seed -> webhook events.
  if (lab) {
    say(`booting a QEMU VM (${MAC}) from the network; its console is in ${join(work, 'vm-console.log')}`);
    const started = Date.now();
    const run = await bootVm(MAC, { net: lab.net, timeoutMs: 300_000, until: async () => (await state()) === 'Provisioned' });
    execFileSync('sh', ['-c', `cat > '${join(work, 'vm-console.log')}'`], { input: run.serial });
    await waitUntil('vm-01 to be Provisioned', async () => (await state()) === 'Provisioned', 60_000).catch((err: unknown) => {
      console.error(run.serial.slice(-3000));
      throw err;
    });
    say(`vm-01 is Provisioned, ${Math.round((Date.now() - started) / 1000)} s after the VM started`);
    console.log('\n' + kctl('get', 'bmh', '-n', NS, '-o', 'wide'));
    // The history is written from the same spool just after the status: give it a moment to record the verdict.
    const host = { namespace: NS, name: 'vm-01' };
    let timeline = await timelineFromApi(bootURL, host, 5);
    for (let i = 0; i < 40 && !timeline[0]?.installation.result; i++) {
      await sleep(250);
      timeline = await timelineFromApi(bootURL, host, 5);
    }
    console.log(renderTimeline(host, timeline));
  }

  // A ServiceAccount that may look at the demo's hosts: its token signs in to the dashboard (RBAC decides what it sees).
  execFileSync(kubectl, ['apply', '-f', '-'], { env: { ...process.env, KUBECONFIG: kubeconfig }, input: dashboardViewer(NS), stdio: ['pipe', 'ignore', 'pipe'] });

  if (check) {
    // --check: the printed sign-in works (a real token, TokenReview and SubjectAccessReview by the operator)
    const token = execFileSync(kubectl, ['create', 'token', 'demo-viewer', '-n', NS], { env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: 'utf8' }).trim();
    const res = await fetch(`http://127.0.0.1:${dashboardPort}/api/hosts?namespace=${NS}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { items?: { name?: string }[]; total?: number };
    if (!res.ok) throw new Error(`the dashboard refused the demo-viewer token: HTTP ${res.status} ${JSON.stringify(body)}`);
    say(`dashboard: demo-viewer sees ${(body.items ?? []).map((h) => h.name).join(', ')}`);
  }

  console.log(`anvil demo is running.
  Dashboard: http://127.0.0.1:${dashboardPort}/  sign in with the token of: ${kubectl} create token demo-viewer -n ${NS}
  export KUBECONFIG=${kubeconfig}
  ${kubectl} get anvil -n ${NS}                 # every anvil object (category)
  ${kubectl} describe bmh vm-01 -n ${NS}        # status, conditions, events
  ${join(ROOT, 'scripts', 'anvil')} history vm-01 -n ${NS} --api ${bootURL}
  curl -s ${bootURL}/metrics | grep anvil_
  curl -s http://127.0.0.1:${metricsPort}/metrics | grep -E 'anvil_(hosts|installs)'
Logs: ${work}. Press Ctrl-C to stop and remove everything.`);
  if (check) await stopAll(0);
}

function dashboardViewer(namespace: string): string {
  const meta = `namespace: ${namespace}`;
  return `apiVersion: v1
kind: ServiceAccount
metadata: {name: demo-viewer, ${meta}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: demo-viewer, ${meta}}
rules:
  - {apiGroups: [anvil.dev], resources: [baremetalhosts], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: demo-viewer, ${meta}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: demo-viewer}
subjects:
  - {kind: ServiceAccount, name: demo-viewer, ${meta}}
`;
}

main().catch((err: unknown) => {
  if (stopping) return; // Ctrl-C pulled the cluster from under the demo: not a failure; the stop under way exits
  console.error(`[demo] failed: ${err instanceof Error ? err.message : String(err)}`);
  for (const name of ['operator', 'boot-server']) {
    try {
      console.error(`--- ${name}\n${readFileSync(join(work, `${name}.log`), 'utf8').slice(-2000)}`);
    } catch {
      // not started
    }
  }
  void stopAll(1);
});
