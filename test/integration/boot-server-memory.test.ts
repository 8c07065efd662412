// Issue 20, memory: the boot-server with its embedded history database runs inside a 384 MiB memory cgroup, as in a
// pod with that limit, from its first start on a new data directory (where PGlite's own initdb peaked at 1.1-1.3 GB
// and the kernel killed it) and again on the existing directory. Each time it becomes ready and takes an installer
// event into its history. A process that outgrows the limit is killed by the kernel and the test fails; nothing is
// timed. The real boot-server process and kube-apiserver; skipped, with the reason, where this process cannot create
// cgroup v1 memory cgroups.
import { jest } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeClient } from '@anvil/core/kube';
import { EMBEDDED_DATABASE_NODE_FLAGS } from '@anvil/boot-server/src/history-wiring.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, waitFor } from '../harness/kube.js';
import { createMemoryCgroup, memoryCgroupsUnavailable, pgliteTemplate, processMemory, publishInstall, toMiB, type MemoryCgroup, type PublishedInstall } from '../harness/memory.js';
import { startBootServer, type RunningProcess } from '../harness/processes.js';

jest.setTimeout(600_000);

const LIMIT = 384 * 1024 * 1024;
const unavailable = memoryCgroupsUnavailable();

(unavailable ? describe.skip : describe)(`boot-server memory with the embedded database${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const ns = `mem-${Date.now().toString(36)}`;
  let dir: string;
  let cp: ControlPlane;
  let client: KubeClient;
  let template: string;
  let install: PublishedInstall;
  let boot: RunningProcess | undefined;
  let cgroup: MemoryCgroup | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anvil-boot-memory-'));
    template = await pgliteTemplate();
    cp = await startControlPlane();
    client = clientFor(cp);
    await ensureNamespace(client, ns);
    install = await publishInstall(client, ns, 'node-0', '52:54:00:20:00:01');
  });

  afterEach(async () => {
    await boot?.kill('SIGKILL');
    boot = undefined;
    await cgroup?.remove(); // also kills a boot-server that never answered
    cgroup = undefined;
  });

  afterAll(async () => {
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the boot-server in a fresh 384 MiB cgroup on `dir` and has it store one event; returns its memory. */
  async function startAndTakeAnEvent(label: string): Promise<{ peakMiB: number; cgroupPeakMiB: number }> {
    cgroup = createMemoryCgroup(label, LIMIT);
    boot = await startBootServer({
      kubeconfig: cp.kubeconfigPath,
      dir,
      cgroup: cgroup.dir,
      env: { ANVIL_PGLITE_TEMPLATE: template, LOG_LEVEL: 'info' },
      extraArgs: ['--namespace', ns],
    });
    const running = boot;
    const name = `curtin/${label}/step`;
    await waitFor('the boot config served', async () => (await fetch(`${running.url}/ipxe/52-54-00-20-00-01`)).status === 200, 60_000, 200);
    const res = await fetch(`${running.url}${install.webhookPath}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, event_type: 'start', origin: 'curtin', timestamp: Date.now() / 1000, description: label }),
    });
    expect(res.status).toBe(200);
    await waitFor(`the ${label} event in the history`, async () => {
      if (running.child.exitCode !== null || running.child.signalCode !== null) throw new Error(`the boot-server died (${running.child.signalCode ?? running.child.exitCode}):\n${running.logs().slice(-3000)}`);
      const page = (await (await fetch(`${running.url}/api/v1/installations/${install.installationId}/events`)).json()) as { items?: Array<{ name: string }> };
      return page.items?.some((e) => e.name === name);
    }, 120_000, 250);
    // Started as `node main.ts`, it runs as `node --liftoff-only --max-semi-space-size=8 ... main.ts` (same pid).
    expect(readFileSync(`/proc/${running.child.pid!}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(EMBEDDED_DATABASE_NODE_FLAGS));
    const mem = processMemory(running.child.pid!);
    expect({ alive: running.child.exitCode === null && running.child.signalCode === null, oomKills: cgroup.oomKills() ?? 0 }).toEqual({ alive: true, oomKills: 0 });
    return { peakMiB: toMiB(mem!.peak), cgroupPeakMiB: toMiB(cgroup.maxUsage()) };
  }

  it('starts on a new data directory and stores an event within 384 MiB', async () => {
    const m = await startAndTakeAnEvent('first-start');
    process.stdout.write(`boot-server first start: peak RSS ${m.peakMiB.toFixed(0)} MiB, cgroup peak ${m.cgroupPeakMiB.toFixed(0)} MiB (limit 384)\n`);
  });

  it('starts again on the existing data directory and stores an event within 384 MiB', async () => {
    const m = await startAndTakeAnEvent('restart');
    process.stdout.write(`boot-server restart: peak RSS ${m.peakMiB.toFixed(0)} MiB, cgroup peak ${m.cgroupPeakMiB.toFixed(0)} MiB (limit 384)\n`);
  });
});
