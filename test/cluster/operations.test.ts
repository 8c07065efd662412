// Day-2 operations on a real node, with charts/anvil installed from its defaults (plus the local image): the leader
// operator pod killed (the standby takes the Lease, nothing is reinstalled), `helm upgrade` to a new image tag while an
// installer keeps posting events with the retries anvil renders for curtin's reporter (no event lost, no 404, no
// reinstall), and `helm uninstall` + `helm install` (CRDs, hosts, the volume and the history stay; the reinstalled
// release picks up where it was).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBootServerVolume, runCommand, startCluster, type Cluster, type RunResult } from '../harness/cluster.js';
import { waitFor } from '../harness/kube.js';
import { ROOT } from '../harness/processes.js';
import { webhookRetriesOf, webhookURLOf } from '../harness/replay.js';

const MINUTE = 60_000;
const TAG = process.env.ANVIL_CLUSTER_IMAGE_TAG ?? 'test';
const UPGRADE_TAG = `${TAG}-b`;
const NS = 'anvil';
const RELEASE = 'anvil';
const HOSTS_NS = 'default';
const LEASE = 'anvil-operator';
const TOP_LEVEL = 'subiquity/Install/install';
const FIRST = { name: 'node-01', mac: '52-54-00-12-34-01' };
const SECOND = { name: 'node-02', mac: '52-54-00-12-34-02' };
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ anvilTag: TAG });
}, 40 * MINUTE);

afterAll(async () => {
  await cluster?.stop();
}, 5 * MINUTE);

interface Pod {
  metadata: { name: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { containers: { image: string }[] };
  status: { podIP?: string; conditions?: { type: string; status: string }[] };
}
interface Host {
  status?: { state?: string; currentInstall?: { attempt: number; installationId?: string; result?: string } };
}
interface PumpTry {
  at: number;
  status?: number;
  body?: string;
  error?: string;
}
/** An event's final try, and every try. */
interface PumpOutcome extends PumpTry {
  description: string;
  tries: PumpTry[];
}

const kubectlJson = async <T>(args: string[]): Promise<T> => JSON.parse(await cluster.kubectl([...args, '-o', 'json'])) as T;
const pods = async (component: string) =>
  (await kubectlJson<{ items: Pod[] }>(['-n', NS, 'get', 'pods', '-l', `app.kubernetes.io/component=${component}`])).items;
const ready = (p: Pod) => !p.metadata.deletionTimestamp && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const host = (name: string) => kubectlJson<Host>(['-n', HOSTS_NS, 'get', 'baremetalhost', name]);
const leaseHolder = async () =>
  (await kubectlJson<{ spec: { holderIdentity?: string } }>(['-n', NS, 'get', 'lease', LEASE])).spec.holderIdentity ?? '';
const curl = (args: string[]) => cluster.nsrun(['curl', '-sS', '--max-time', '10', ...args]);

async function withDiagnostics<T>(what: Promise<T>): Promise<T> {
  try {
    return await what;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await cluster.diagnostics()}`);
  }
}

/** The boot-server Service by its ClusterIP (no cluster DNS here), as a machine on a bridged network reaches it. */
async function bootServerBase(): Promise<string> {
  const list = await kubectlJson<{ items: { spec: { clusterIP: string; ports: { name: string; port: number }[] } }[] }>(
    ['-n', NS, 'get', 'svc', '-l', 'app.kubernetes.io/component=boot-server'],
  );
  const svc = list.items[0]!;
  return `http://${svc.spec.clusterIP}:${svc.spec.ports.find((p) => p.name === 'http')?.port ?? 8080}`;
}

/** The rendered URLs name the Service by its DNS name, which this cluster cannot resolve: the same path at its IP. */
const atServiceIP = (url: string, base: string) => {
  const u = new URL(url);
  return `${base}${u.pathname}${u.search}`;
};

const helmValues = (tag: string) => ['--set', 'image.repository=localhost/anvil', '--set', `image.tag=${tag}`, '--set', 'image.pullPolicy=Never'];

async function helmInstall(tag: string): Promise<void> {
  await cluster.helm(['install', RELEASE, join(ROOT, 'charts', 'anvil'), '--namespace', NS, '--create-namespace', ...helmValues(tag)], { timeoutMs: 5 * MINUTE });
  await allReady(tag);
}

/** Two operator replicas and one boot-server, all Ready and on `tag`. */
async function allReady(tag: string): Promise<void> {
  await withDiagnostics(
    waitFor(`every anvil pod Ready on ${tag}`, async () => {
      const list = [...(await pods('operator')), ...(await pods('boot-server'))];
      return list.length === 3 && list.every((p) => ready(p) && p.spec.containers.every((c) => c.image.endsWith(`:${tag}`)));
    }, 10 * MINUTE, 2000),
  );
}

/** The operator's reconcile count of BareMetalHosts, from its /metrics (0 while it stands by). */
async function hostReconciles(pod: Pod): Promise<number> {
  const text = await curl([`http://${pod.status.podIP}:8080/metrics`]);
  return text
    .split('\n')
    .filter((l) => l.startsWith('controller_runtime_reconcile_total{') && /controller="[^"]*baremetalhost[^"]*"/i.test(l))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** The current leader has reconciled BareMetalHosts (so it has seen every host and decided what to do with them). */
async function leaderHasReconciled(): Promise<string> {
  return withDiagnostics(
    waitFor('the leading operator reconciled the hosts', async () => {
      const holder = await leaseHolder();
      const leader = (await pods('operator')).find((p) => p.metadata.name === holder && ready(p));
      return leader && (await hostReconciles(leader)) > 0 ? holder : undefined;
    }, 5 * MINUTE, 2000),
  );
}

async function createHost(h: { name: string; mac: string }): Promise<void> {
  const manifest = readFileSync(join(ROOT, 'examples', 'quickstart', 'baremetalhost.yaml'), 'utf8')
    .replace('name: node-01\n', `name: ${h.name}\n`)
    .replace('hostname: node-01', `hostname: ${h.name}`)
    .replace('52:54:00:12:34:01', h.mac.replace(/-/g, ':'));
  await cluster.kubectl(['apply', '-n', HOSTS_NS, '-f', '-'], { input: manifest });
}

/** The machine PXE-boots into the installer (iPXE script, NoCloud seed); returns its webhook at the Service IP. */
async function bootIntoInstaller(h: { name: string; mac: string }): Promise<{ webhook: string; retries: number[]; installationId: string }> {
  const base = await bootServerBase();
  const script = await withDiagnostics(
    waitFor(`the install script of ${h.name}`, async () => {
      const s = await curl([`${base}/ipxe/${h.mac}?arch=x86_64&platform=efi`]);
      return /^kernel /m.test(s) ? s : undefined;
    }, 5 * MINUTE, 2000),
  );
  const seed = atServiceIP(/ds=nocloud-net;s=(\S+)/.exec(script)![1]!, base);
  const userData = await curl(['-f', `${seed}user-data`]);
  const endpoint = webhookURLOf(userData);
  const installing = await withDiagnostics(
    waitFor(`${h.name} Installing`, async () => {
      const hs = await host(h.name);
      return hs.status?.state === 'Installing' ? hs : undefined;
    }, 3 * MINUTE, 1000),
  );
  expect(installing.status?.currentInstall?.attempt).toBe(1);
  return { webhook: atServiceIP(endpoint, base), retries: webhookRetriesOf(userData), installationId: installing.status!.currentInstall!.installationId! };
}

async function postEvent(webhook: string, event: Record<string, unknown>): Promise<string> {
  const body = { origin: 'curtin', timestamp: Date.now() / 1000, level: 'INFO', ...event };
  return curl(['-f', '-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body), '-w', '%{http_code}', '-o', '/dev/null', webhook]);
}

async function succeed(h: { name: string; mac: string }, webhook: string): Promise<Host> {
  expect(await postEvent(webhook, { name: TOP_LEVEL, event_type: 'finish', result: 'SUCCESS', description: 'installing system' })).toMatch(/^2/);
  return provisionedWithLocalBoot(h);
}

/** Provisioned, and the boot-server answers the machine's next PXE boot with the local-boot script. */
async function provisionedWithLocalBoot(h: { name: string; mac: string }): Promise<Host> {
  const base = await bootServerBase();
  return withDiagnostics(
    waitFor(`${h.name} Provisioned and booting locally`, async () => {
      const hs = await host(h.name);
      if (hs.status?.state !== 'Provisioned') return undefined;
      const script = await curl([`${base}/ipxe/${h.mac}?arch=x86_64&platform=efi`]).catch(() => '');
      return /\nexit\n?$/.test(script) && !/^kernel /m.test(script) ? hs : undefined;
    }, 5 * MINUTE, 2000),
  );
}

interface StoredEvent {
  description: string | null;
}

/** Every installer event of an installation, from the boot-server's history API (following `next`). */
async function storedEvents(installationId: string): Promise<StoredEvent[]> {
  const base = await bootServerBase();
  const all: StoredEvent[] = [];
  let next: string | null = `/api/v1/installations/${installationId}/events?limit=500`;
  while (next) {
    const page = JSON.parse(await curl(['-f', `${base}${next}`])) as { items: StoredEvent[]; next: string | null };
    all.push(...page.items);
    next = page.next;
  }
  return all;
}

let first: { attempt: number; installationId: string };

describe('operations on charts/anvil on a real node', () => {
  test('install, then a host installed to Provisioned', async () => {
    await createBootServerVolume(cluster);
    await helmInstall(TAG);
    await cluster.kubectl(['apply', '-n', HOSTS_NS, '-f', join(ROOT, 'examples', 'quickstart')]);
    const installer = await bootIntoInstaller(FIRST);
    expect(await postEvent(installer.webhook, { name: TOP_LEVEL, event_type: 'start', description: 'installing system' })).toMatch(/^2/);
    const done = await succeed(FIRST, installer.webhook);
    first = { attempt: done.status!.currentInstall!.attempt, installationId: installer.installationId };
    expect(first.attempt).toBe(1);
    expect(done.status?.currentInstall?.installationId).toBe(installer.installationId);
  }, 30 * MINUTE);

  test('killing the leader operator pod: the standby takes the Lease, nothing is reinstalled', async () => {
    const leader = await leaderHasReconciled();
    const standby = (await pods('operator')).find((p) => p.metadata.name !== leader)!.metadata.name;
    await cluster.kubectl(['-n', NS, 'delete', 'pod', leader, '--grace-period=0', '--force', '--wait=false']);
    const holder = await withDiagnostics(
      waitFor('another operator holds the Lease', async () => {
        const h = await leaseHolder();
        return h && h !== leader ? h : undefined;
      }, 5 * MINUTE, 1000),
    );
    expect(holder).not.toBe(leader);
    console.info(`leader ${leader} killed; the Lease went to ${holder} (the standby was ${standby})`);
    await leaderHasReconciled();

    const after = await provisionedWithLocalBoot(FIRST);
    expect(after.status?.currentInstall?.attempt).toBe(first.attempt);
    expect(after.status?.currentInstall?.installationId).toBe(first.installationId);
  }, 15 * MINUTE);

  test('helm upgrade to a new image tag while an installer posts events with curtin retries: no event lost, no 404, no reinstall', async () => {
    await createHost(SECOND);
    const installer = await bootIntoInstaller(SECOND);
    // the chart's default: curtin's reporter retries a failed POST for about two minutes
    expect(installer.retries).toEqual([1, 2, 4, 8, 16, 32, 64]);
    await cluster.tagImage(`localhost/anvil:${TAG}`, `localhost/anvil:${UPGRADE_TAG}`);

    const work = join(cluster.dir, 'pump');
    mkdirSync(work, { recursive: true });
    const out = join(work, 'outcomes.jsonl');
    const stop = join(work, 'stop');
    writeFileSync(out, '');
    const outcomes = (): PumpOutcome[] => readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as PumpOutcome);
    const pump: Promise<RunResult> = runCommand(
      join(cluster.dir, 'nsrun'),
      [process.execPath, join(ROOT, 'test', 'harness', 'event-pump.mjs'), installer.webhook, out, stop, installer.retries.join(',')],
      { timeoutMs: 30 * MINUTE },
    );
    try {
      await waitFor('the installer posting events', async () => outcomes().filter((o) => o.status === 200).length >= 20, 2 * MINUTE, 500);
      const bootServerBefore = (await pods('boot-server'))[0]!.metadata.name;
      await cluster.helm(['upgrade', RELEASE, join(ROOT, 'charts', 'anvil'), '--namespace', NS, ...helmValues(UPGRADE_TAG)], { timeoutMs: 5 * MINUTE });
      await allReady(UPGRADE_TAG);
      expect((await pods('boot-server'))[0]!.metadata.name).not.toBe(bootServerBefore);
      // the installer keeps going against the new pod
      const seen = outcomes().length;
      await waitFor('events acknowledged by the new boot-server', async () => outcomes().slice(seen).filter((o) => o.status === 200).length >= 20, 3 * MINUTE, 500);
    } finally {
      writeFileSync(stop, '');
      await pump;
    }
    const pumped = await pump;
    expect(`exit ${pumped.code} ${pumped.stderr}`).toBe('exit 0 ');

    const all = outcomes();
    const acknowledged = all.filter((o) => o.status !== undefined && o.status >= 200 && o.status < 300);
    const lost = all.filter((o) => !acknowledged.includes(o));
    const tries = all.flatMap((o) => o.tries);
    const refused = tries.filter((t) => t.status !== undefined && (t.status < 200 || t.status >= 300));
    const unanswered = tries.filter((t) => t.error !== undefined);
    const window = unanswered.length ? `${unanswered.length} tries over ${unanswered.at(-1)!.at - unanswered[0]!.at} ms (${[...new Set(unanswered.map((t) => t.error))].join(', ')})` : 'none';
    const retried = all.filter((o) => o.tries.length > 1).length;
    console.info(`helm upgrade under load: ${all.length} events, ${acknowledged.length} acknowledged, ${retried} after retries; not answered while no pod served: ${window}`);
    // every event arrived (retried across the restart), and no try was refused: never a 404 for the valid token
    expect(lost.map((o) => `${o.description}: ${o.status ?? o.error}`)).toEqual([]);
    expect(refused.map((t) => `${t.status}: ${t.body}`)).toEqual([]);

    const done = await succeed(SECOND, installer.webhook);
    expect(done.status?.currentInstall?.attempt).toBe(1);
    expect(done.status?.currentInstall?.installationId).toBe(installer.installationId);

    const stored = new Set((await storedEvents(installer.installationId)).map((e) => e.description));
    expect(acknowledged.map((o) => o.description).filter((d) => !stored.has(d))).toEqual([]);
  }, 40 * MINUTE);

  test('helm uninstall keeps the CRDs, the hosts and the volume; helm install again picks up where it was', async () => {
    const historyBefore = (await storedEvents(first.installationId)).length;
    expect(historyBefore).toBeGreaterThan(0);
    await cluster.helm(['uninstall', RELEASE, '--namespace', NS], { timeoutMs: 5 * MINUTE });
    await withDiagnostics(waitFor('the release pods gone', async () => (await pods('operator')).length + (await pods('boot-server')).length === 0, 5 * MINUTE, 2000));

    const crds = await cluster.kubectl(['get', 'crd', '-o', 'name']);
    for (const crd of ['baremetalhosts.anvil.dev', 'autoinstalltemplates.anvil.dev', 'proxmoxtemplates.anvil.dev']) expect(crds).toContain(crd);
    for (const h of [FIRST, SECOND]) expect((await host(h.name)).status?.state).toBe('Provisioned');
    const pvcs = await cluster.kubectl(['-n', NS, 'get', 'pvc', '-o', 'name']);
    expect(pvcs).toMatch(/boot-server-data/);

    await helmInstall(TAG);
    await leaderHasReconciled();
    const after = await provisionedWithLocalBoot(FIRST);
    expect(after.status?.currentInstall?.attempt).toBe(first.attempt);
    expect(after.status?.currentInstall?.installationId).toBe(first.installationId);
    expect((await provisionedWithLocalBoot(SECOND)).status?.currentInstall?.attempt).toBe(1);
    expect((await storedEvents(first.installationId)).length).toBe(historyBefore);
    expect(existsSync(join(cluster.dir, 'pv', 'boot-server'))).toBe(true);
  }, 30 * MINUTE);
});
