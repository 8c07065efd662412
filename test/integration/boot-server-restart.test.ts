// Issue 18, "no 404 for a valid token across restarts": several installers post events back to back while the
// boot-server is restarted (SIGTERM, then SIGKILL), each time on the same port with the same spool and directories.
// curtin posts every event once and never retries, so while the boot-server is down a connection error is all an
// installer may see: every answer must be a 200, never a 404 (the boot-server must not answer before it has loaded
// the boot configs), and /readyz is 200 whenever it answers. Every acknowledged event ends up in the history exactly
// once and the last one in the host's status. Restarts are driven by counts of acknowledged events, not by timers.
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InstallerEvent } from '@anvil/core/install';
import { waitFor } from '../harness/kube.js';
import { startWebhookLab, type LabHost, type WebhookLab } from '../harness/webhook-lab.js';

jest.setTimeout(600_000);

const RUN = randomUUID().slice(0, 8);
const INSTALLERS = 4;
/** Events each installer must have acknowledged between two restarts. */
const STEP = 25;

interface Installer {
  host: LabHost;
  next: number;
  acked: string[];
  /** Answers other than 200: each one is a failure (a 404 is an event the installer has lost for good). */
  wrong: string[];
  connectionErrors: number;
}

/** The cause of a fetch failure, e.g. ECONNREFUSED; undefined when it is not a network-level failure. */
function connectionFailure(err: unknown): string | undefined {
  // By name, not instanceof: fetch's errors come from outside jest's module realm.
  const e = err as { name?: unknown; message?: unknown; cause?: { code?: string; message?: string } } | undefined;
  if (e?.name !== 'TypeError' || e.message !== 'fetch failed') return undefined;
  return e.cause?.code ?? e.cause?.message ?? 'fetch failed';
}

describe('boot-server restart under continuous posting', () => {
  let lab: WebhookLab;
  const base = Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    lab = await startWebhookLab({
      namespace: `restart-${RUN}`,
      database: `anvil_restart_${RUN}`,
      hostNames: Array.from({ length: INSTALLERS }, (_, i) => `installer-${i}`),
      macPrefix: '52:54:00:e1:8b',
    });
  });

  afterAll(async () => {
    await lab?.stop();
  });

  const eventFor = (host: LabHost, step: number | 'final'): InstallerEvent => ({
    name: `curtin/restart-test/${host.name}/step-${step}`,
    event_type: 'start',
    origin: 'curtin',
    level: 'DEBUG',
    description: `${host.name} step ${step}`,
    timestamp: base + (step === 'final' ? 1_000_000 : step),
  });

  const post = (host: LabHost, event: InstallerEvent) =>
    fetch(host.webhook, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(event) });

  it('answers every post with 200 or a connection error, never a 404, and stores every acknowledged event once', async () => {
    const installers: Installer[] = lab.hosts.map((host) => ({ host, next: 0, acked: [], wrong: [], connectionErrors: 0 }));
    const readiness: number[] = [];
    const otherErrors: string[] = [];
    let stopping = false;

    const runInstaller = async (inst: Installer): Promise<void> => {
      while (!stopping) {
        const event = eventFor(inst.host, inst.next++);
        try {
          const res = await post(inst.host, event);
          const text = await res.text();
          if (res.status === 200) inst.acked.push(event.name);
          else inst.wrong.push(`${event.name}: ${res.status} ${text.slice(0, 200)}`);
        } catch (err) {
          const cause = connectionFailure(err);
          if (!cause) otherErrors.push(`${event.name}: ${String(err)}`);
          inst.connectionErrors++;
          await sleep(20); // the boot-server is down: pace the next event, as a real installer's work would
        }
      }
    };
    const probeReadiness = async (): Promise<void> => {
      while (!stopping) {
        try {
          const res = await fetch(`${lab.boot().url}/readyz`);
          await res.text();
          readiness.push(res.status);
        } catch {
          // down: a connection error is expected
        }
        await sleep(20);
      }
    };
    const eachAcknowledgedMore = async (what: string): Promise<void> => {
      const marks = installers.map((i) => i.acked.length);
      await waitFor(`every installer has ${STEP} more events acknowledged ${what}`, async () => installers.every((inst, k) => inst.acked.length >= marks[k]! + STEP), 180_000, 50);
    };

    const running = [...installers.map(runInstaller), probeReadiness()];
    try {
      await eachAcknowledgedMore('before the first restart');
      await lab.restartBoot('SIGTERM');
      await eachAcknowledgedMore('after a graceful restart');
      await lab.restartBoot('SIGKILL');
      await eachAcknowledgedMore('after a kill -9');
    } finally {
      stopping = true;
      await Promise.all(running);
    }

    // With the boot-server up, each installer's last event.
    for (const inst of installers) {
      const event = eventFor(inst.host, 'final');
      const res = await post(inst.host, event);
      if (res.status === 200) inst.acked.push(event.name);
      else inst.wrong.push(`${event.name}: ${res.status} ${(await res.text()).slice(0, 200)}`);
    }

    expect(installers.flatMap((i) => i.wrong)).toEqual([]);
    expect(otherErrors).toEqual([]);
    expect(readiness.filter((s) => s !== 200)).toEqual([]);
    expect(readiness.length).toBeGreaterThan(0);

    for (const inst of installers) {
      const posted = new Set([...Array.from({ length: inst.next }, (_, i) => eventFor(inst.host, i).name), eventFor(inst.host, 'final').name]);
      const counts = async () => {
        const rows = await lab.sql<{ name: string; n: number }>('SELECT name, count(*)::int AS n FROM installer_events WHERE installation_id = $1 GROUP BY name', [inst.host.installationId]);
        return new Map(rows.map((r) => [r.name, r.n]));
      };
      const stored = await waitFor(`${inst.host.name}: all ${inst.acked.length} acknowledged events in the history`, async () => {
        const c = await counts();
        return inst.acked.every((n) => c.has(n)) ? c : undefined;
      }, 120_000, 250).catch(async (err: unknown) => {
        const c = await counts();
        throw new Error(`${String(err)}; missing: ${inst.acked.filter((n) => !c.has(n)).slice(0, 20).join(', ')}`);
      });
      expect([...stored].filter(([, n]) => n !== 1)).toEqual([]);
      // Events whose answer was lost to a connection error may be stored too (once), but nothing else.
      expect([...stored.keys()].filter((n) => !posted.has(n))).toEqual([]);
      await waitFor(`${inst.host.name}: the last event in status`, async () => (await lab.host(inst.host.name))?.status?.currentInstall?.lastEvent?.name === eventFor(inst.host, 'final').name, 60_000, 200);
    }
    await waitFor('spool backlog back to 0', async () => (await lab.metric('anvil_spool_backlog_bytes')) === 0, 60_000, 250);
  });
});
