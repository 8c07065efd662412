// An idle operator (a Manager with every controller registered, nothing to do) against a real kube-apiserver, with the
// timeouts shortened a hundredfold: a 3 s watch body timeout stands for undici's 300 s. Quiet watches must end
// cleanly (the server ends them before the client's body timeout would) and restart, logging nothing, over many watch
// cycles. A real outage (the connection to the API server cut) is logged and retried with a growing backoff, which
// starts over once the watches work again; then it is quiet again.
import { jest } from '@jest/globals';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { anvilCrds } from '@anvil/core/api';
import { BOOT_CONFIG_LABEL } from '@anvil/core/bootconfig';
import type { Informer } from '@anvil/core/kube';
import { CoreResources, type KubeObject } from '@anvil/core/kube';
import { RestKubeClient, loadKubeConfig } from '@anvil/core/kube/rest-client';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { BareMetalHostType } from '@anvil/operator/src/controllers/baremetalhost/controller.js';
import { AutoinstallTemplateType } from '@anvil/operator/src/controllers/baremetalhost/render-host.js';
import { ProxmoxTemplateType } from '@anvil/operator/src/controllers/proxmoxtemplate/controller.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { startControlPlane, writeKubeconfig, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { TcpProxy } from '../harness/tcp-proxy.js';

jest.setTimeout(240_000);

interface LogLine {
  level: number;
  msg: string;
  informer?: string;
  err?: string;
  retryInMs?: number;
}

/** A pino logger writing into memory, as the operator's logger would write to stdout. */
function memoryLogger() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const WARN = 40;
const noisy = (lines: LogLine[]) => lines.filter((l) => l.level >= WARN || /list\/watch failed/.test(l.msg));

describe('an idle operator', () => {
  let cp: ControlPlane;
  let proxy: TcpProxy;
  let manager: Manager | undefined;
  const ns = `idle-${Date.now().toString(36)}`;

  beforeAll(async () => {
    cp = await startControlPlane();
    const admin = clientFor(cp);
    await installCrds(admin, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(admin, ns);
    proxy = new TcpProxy(cp.port);
    await proxy.start();
  });

  afterAll(async () => {
    await manager?.stop();
    await proxy?.stop();
    await cp?.stop();
  });

  it('lets quiet watches end and restart without a word, and starts the backoff over after a real outage', async () => {
    const kubeconfig = join(cp.dir, `kubeconfig-idle-${ns}`);
    writeKubeconfig(kubeconfig, `https://127.0.0.1:${proxy.port}`, cp.caFile, cp.token);
    // The informers keep their default watch timeout (300-600 s); the client caps it below its body timeout.
    const client = new RestKubeClient(loadKubeConfig(kubeconfig), { watchBodyTimeoutMs: 3000, requestTimeoutMs: 5000 });
    const { log, lines } = memoryLogger();
    manager = new Manager({ client, log, identity: 'idle-test', namespaces: [ns] });
    registerControllers(manager, { maxConcurrentReconciles: 1, log, bootServerURL: 'http://127.0.0.1:1' });
    await manager.start();
    const informers: Informer<KubeObject>[] = [
      manager.informer(BareMetalHostType),
      manager.informer(AutoinstallTemplateType),
      manager.informer(ProxmoxTemplateType),
      manager.informer(CoreResources.secret, { labelSelector: `${BOOT_CONFIG_LABEL}=true` }),
      manager.informer(CoreResources.secret, { labelSelector: `${BOOT_CONFIG_LABEL}!=true`, metadataOnly: true }),
    ].flatMap((set) => set.informers);
    const allWatched = (n: number) => async () => informers.every((i) => i.stats.watches >= n);

    // Idle, for what stands for more than 15 minutes: each informer sees 8 watches of about 2 s end and restart,
    // more than 5 times the 3 s body timeout that used to cut every quiet watch.
    await waitFor('8 watch cycles on every informer', allWatched(8), 120_000, 200);
    expect(noisy(lines)).toEqual([]);
    for (const i of informers) expect(i.stats).toMatchObject({ watchErrors: 0, consecutiveFailures: 0, relistsOnGone: 0, lists: 1 });
    expect(informers.every((i) => i.stats.watchesEnded >= 7)).toBe(true);

    // A real outage: the connection to the API server is cut. That is logged, and retried with a growing backoff.
    proxy.block();
    await waitFor('three failed retries on every informer', async () => informers.every((i) => i.stats.consecutiveFailures >= 3), 60_000, 50);
    proxy.resume();
    await waitFor('every informer watching again', async () => informers.every((i) => i.stats.consecutiveFailures === 0), 60_000, 50);
    const failures = noisy(lines);
    expect(failures.length).toBeGreaterThanOrEqual(3 * informers.length);
    expect(failures.every((l) => l.msg === 'list/watch failed; retrying' && l.level === WARN)).toBe(true);
    expect(Math.max(...failures.map((l) => l.retryInMs ?? 0))).toBeGreaterThanOrEqual(800);
    for (const i of informers) expect(i.stats.backoffResets).toBe(1);

    // Quiet again: more clean cycles, and not another word.
    const after = lines.length;
    const watched = Math.max(...informers.map((i) => i.stats.watches));
    await waitFor('5 more watch cycles on every informer', allWatched(watched + 5), 120_000, 200);
    expect(noisy(lines.slice(after))).toEqual([]);
    for (const i of informers) expect(i.stats.consecutiveFailures).toBe(0);
  });
});
