// PostgreSQL dies again and again while installers report (real PostgreSQL, kube-apiserver, boot-server process and
// operator). Several simulated installers post their events to the webhook all along; at points chosen by a seeded
// PRNG (counted in events, never in time) the database is killed (kill -9 of every PostgreSQL process, or an
// immediate shutdown), the installers go on posting, and the database comes back. Nothing dies: the boot-server stays
// up and answers /healthz throughout, every event is acknowledged, each acknowledged event is in the database exactly
// once, and every install finishes.
import { jest } from '@jest/globals';
import { rmSync } from 'node:fs';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import { fromSecret, type BootConfig } from '@anvil/core/bootconfig';
import { openHistoryStore } from '@anvil/core/db';
import type { SqlHistoryStore } from '@anvil/core/db';
import type { InstallerEvent } from '@anvil/core/install';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { createMinimalTemplate, HostType } from '../harness/installer-sim.js';
import type { RunningPostgres } from '../harness/postgres.js';
import { startPostgresAndControlPlane } from '../harness/start-together.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';

jest.setTimeout(600_000);

type Host = BareMetalHost & KubeObject;
const SEED = 0x18;
const HOSTS = 4;
const OUTAGES = 4;

/** mulberry32: a small seeded PRNG, so the outage points are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A subiquity-shaped install: stages with curtin steps inside, the overall result last (33 events). */
function installerStream(t0: number): InstallerEvent[] {
  const events: InstallerEvent[] = [];
  const ev = (name: string, event_type: string, extra: Partial<InstallerEvent> = {}) =>
    events.push({ name, event_type, origin: name.startsWith('subiquity') ? 'subiquity' : 'curtin', level: 'DEBUG', timestamp: t0 + events.length / 4, ...extra });
  ev('subiquity/Early/run', 'start', { description: 'running early commands' });
  ev('subiquity/Early/run', 'finish', { result: 'SUCCESS' });
  ev('subiquity/Install/install', 'start', { description: 'installing system' });
  for (const stage of ['configure_apt', 'partitioning', 'extract', 'curthooks', 'postinstall']) {
    ev(`subiquity/Install/install/${stage}`, 'start');
    for (const step of ['prepare', 'run']) {
      ev(`cmd-install/stage-${stage}/builtin/${step}`, 'start', { description: `${stage} ${step}` });
      ev(`cmd-install/stage-${stage}/builtin/${step}`, 'finish', { result: 'SUCCESS' });
    }
    ev(`subiquity/Install/install/${stage}`, 'finish', { result: 'SUCCESS' });
  }
  ev('subiquity/Late/run', 'start');
  ev('subiquity/Late/run', 'finish', { result: 'SUCCESS' });
  ev('subiquity/Install/install', 'finish', { result: 'SUCCESS', description: 'installing system' });
  return events;
}

interface Outage {
  /** The database goes away before the killAt-th event (1-based, over all installers) is posted... */
  killAt: number;
  /** ...and comes back before the resumeAt-th. */
  resumeAt: number;
  how: 'kill -9' | 'immediate shutdown';
}

/** One outage in each of `count` equal stretches of the run, at a seeded point, lasting 3-10 events. */
function planOutages(total: number, count: number, random: () => number): Outage[] {
  const stretch = Math.floor(total / count);
  return Array.from({ length: count }, (_, i) => {
    const killAt = i * stretch + 2 + Math.floor(random() * (stretch - 14));
    return { killAt, resumeAt: killAt + 3 + Math.floor(random() * 8), how: i % 2 === 0 ? 'kill -9' : 'immediate shutdown' };
  });
}

const eventId = (name: string, type: string, timeMs: number) => `${name}|${type}|${timeMs}`;

describe('install history through PostgreSQL outages during ingest', () => {
  const ns = `dbout-${Date.now().toString(36)}`;
  let cp: ControlPlane;
  let client: KubeClient;
  let manager: Manager | undefined;
  let pgServer: RunningPostgres;
  let databaseUrl: string;
  let boot: RunningProcess | undefined;
  let store: SqlHistoryStore | undefined;

  beforeAll(async () => {
    // Commits must survive the crashes: what the shipper was told is stored, is.
    [pgServer, cp] = await startPostgresAndControlPlane({ durableCommits: true });
    databaseUrl = await pgServer.createDatabase(`anvil_outage_${process.pid}`);
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
  });

  afterAll(async () => {
    await store?.close();
    await manager?.stop();
    await boot?.kill('SIGKILL');
    if (boot) rmSync(boot.dir, { recursive: true, force: true });
    await cp?.stop();
    await pgServer?.stop();
  });

  it(`keeps the boot-server up and stores every acknowledged event once (seed ${SEED})`, async () => {
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, extraArgs: ['--database-url', databaseUrl] });
    const bootServer = boot;
    await createMinimalTemplate(client, ns);
    manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'test', namespaces: [ns] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: bootServer.url });
    await manager.start();

    const hosts = Array.from({ length: HOSTS }, (_, i) => ({ name: `h${i + 1}`, mac: `52:54:00:db:00:0${i + 1}` }));
    for (const h of hosts) {
      await client.create(HostType, {
        apiVersion: 'anvil.dev/v1alpha1',
        kind: 'BareMetalHost',
        metadata: { name: h.name, namespace: ns },
        spec: { bootMACAddress: h.mac, templateRef: { name: 't' }, secretRefs: [{ name: 'creds', key: 'hash', variable: 'hash' }] },
      });
    }
    const installers = await Promise.all(
      hosts.map(async (h, i) => {
        const config: BootConfig = await waitFor(`${h.name} boot config`, async () => {
          const s = await client.get(CoreResources.secret, { namespace: ns, name: `${h.name}-bootconfig` });
          const c = s ? fromSecret(s) : undefined;
          return c?.mode === 'install' ? c : undefined;
        });
        const ipxe = `${bootServer.url}/ipxe/${h.mac.replaceAll(':', '-')}`;
        await waitFor(`boot-server serves ${h.name}`, async () => (await (await fetch(ipxe)).text()).includes('kernel'));
        return {
          host: h.name,
          installationId: config.install!.installationId,
          webhook: /endpoint: (\S+)/.exec(config.install!.userData)![1]!,
          events: installerStream(Math.floor(Date.now() / 1000) + i),
        };
      }),
    );

    store = await openHistoryStore({ databaseUrl, dataDir: '', migrate: false });
    const history = store;
    const storedCount = async () => {
      let n = 0;
      for (const inst of installers) n += (await history.listInstallerEvents(inst.installationId, { limit: 1000 })).items.length;
      return n;
    };
    /** Batches the boot-server's history sink has shipped, by outcome (its own metric). */
    const historyBatches = async (outcome: 'ok' | 'error') => {
      const text = await (await call(`${bootServer.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('anvil_sink_batch_duration_seconds_count{') && l.includes('sink="history"') && l.includes(`outcome="${outcome}"`));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    /** fetch, but a refused connection says whether the boot-server died, and how. */
    const call = async (url: string, init?: RequestInit) => {
      try {
        return await fetch(url, init);
      } catch (err) {
        const { exitCode, signalCode } = bootServer.child;
        throw new Error(`${init?.method ?? 'GET'} ${new URL(url).pathname} failed (${String(err)}); boot-server exit code ${exitCode}, signal ${signalCode}; its last lines:\n${bootServer.logs().split('\n').slice(-15).join('\n')}`);
      }
    };
    const bootServerUp = async (when: string) => {
      expect({ when, exitCode: bootServer.child.exitCode, signal: bootServer.child.signalCode }).toEqual({ when, exitCode: null, signal: null });
      expect({ when, healthz: (await call(`${bootServer.url}/healthz`)).status }).toEqual({ when, healthz: 200 });
    };

    const total = installers.reduce((n, inst) => n + inst.events.length, 0);
    const outages = planOutages(total, OUTAGES, seeded(SEED));
    const log: string[] = [];
    let posted = 0;
    // Outage steps run one after another, whichever installer reaches their point; the others keep posting meanwhile.
    let steps: Promise<void> = Promise.resolve();
    const step = (what: () => Promise<void>) => (steps = steps.then(what));

    let failuresBefore = 0;
    const kill = (o: Outage) => async () => {
      failuresBefore = await historyBatches('error');
      if (o.how === 'kill -9') await pgServer.crash();
      else await pgServer.stopImmediate();
      log.push(`${o.how} before event ${o.killAt}`);
      await bootServerUp(`after ${o.how}`);
    };
    const resume = (o: Outage) => async () => {
      // Events were acknowledged since the kill: the shipper has run into the outage (a failed write to the history).
      await waitFor('the history sink failing', async () => (await historyBatches('error')) > failuresBefore, 120_000, 100);
      await bootServerUp('while the database is down');
      await expect(storedCount()).rejects.toThrow();
      const shippedBefore = await historyBatches('ok');
      await pgServer.resume();
      // The backlog drains: the shipper's backoff comes back to its normal pace once the database answers.
      await waitFor('the history sink shipping again', async () => (await historyBatches('ok')) > shippedBefore, 120_000, 100);
      log.push(`database back before event ${o.resumeAt}`);
      await bootServerUp('after the database came back');
    };

    const acked = new Map<string, Set<string>>(installers.map((inst) => [inst.installationId, new Set<string>()]));
    await Promise.all(
      installers.map(async (inst) => {
        for (const event of inst.events) {
          const n = ++posted;
          for (const o of outages) {
            if (n === o.killAt) await step(kill(o));
            if (n === o.resumeAt) await step(resume(o));
          }
          const res = await call(inst.webhook, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(event) });
          expect({ host: inst.host, event: event.name, status: res.status }).toEqual({ host: inst.host, event: event.name, status: 200 });
          acked.get(inst.installationId)!.add(eventId(event.name, event.event_type, Math.round(event.timestamp! * 1000)));
          if (n % 5 === 0) await bootServerUp(`after event ${n}`);
        }
      }),
    );
    await steps;
    expect(log).toHaveLength(2 * OUTAGES);
    expect(pgServer.running).toBe(true);

    // Everything acknowledged arrives, once.
    for (const inst of installers) {
      const want = acked.get(inst.installationId)!;
      expect(want.size).toBe(inst.events.length);
      const list = async () => (await history.listInstallerEvents(inst.installationId, { limit: 1000 })).items;
      await waitFor(`${inst.host}: every event stored`, async () => (await list()).length >= want.size, 120_000, 250).catch(() => undefined);
      const ids = (await list()).map((e) => eventId(e.name, e.eventType, e.eventTime.getTime()));
      // On failure, the diff names the missing (or extra) events, and the boot-server's complaints say why.
      const complaints = bootServer.logs().split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-20);
      expect({ host: inst.host, stored: [...new Set(ids)].sort(), complaints: ids.length === want.size ? [] : complaints }).toEqual({ host: inst.host, stored: [...want].sort(), complaints: [] });
      expect(ids).toHaveLength(want.size);
    }
    // Installs finish: in the history, and on the hosts.
    for (const inst of installers) {
      const installation = await waitFor(`${inst.host}: installation finished`, async () => {
        const i = await history.getInstallation(inst.installationId);
        return i?.result ? i : undefined;
      }, 60_000, 250);
      expect(installation).toMatchObject({ result: 'SUCCESS', host: { namespace: ns, name: inst.host } });
      await waitFor(`${inst.host} Provisioned`, async () => (await client.get<Host>(HostType, { namespace: ns, name: inst.host }))?.status?.state === 'Provisioned', 60_000);
    }
    await bootServerUp('at the end');
  });
});
