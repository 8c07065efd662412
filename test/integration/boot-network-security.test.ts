// The boot network's security claims (docs/security.md), through the real boot-server and operator processes, a real
// kube-apiserver and the install history in real PostgreSQL:
//   (a) a token route in another case or percent-encoded is served, but its token reaches no status, event, history
//       row, metric or log line of either process;
//   (b) after a whole install (boot, seed, installer events, verdict), neither the install token nor the plain password
//       of the host's Secret (hashed by the template with password_hash) is anywhere in the logs of both processes, the
//       statuses, the Kubernetes Events, the metrics or any row of any history table;
//   (c) a flood of boot requests of invented MACs from one address gets 429s, adds no boot_requests row and at most
//       the per-source discovery budget of discovered_machines rows; a few MACs seen often are one row each;
//   (d) a template whose kernel args have an unbalanced quote leaves the host with a clear status and publishes no
//       install boot config; the message quoting the command line carries no token (that of an attempt under way
//       neither, when its template breaks).
import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import { bootConfigSecretName, fromSecret, type BootConfig } from '@anvil/core/bootconfig';
import { HISTORY_TABLES } from '@anvil/core/src/db/testing/sql-fixture.js';
import { CoreResources, type KubeClient, type KubeObject, type ResourceType } from '@anvil/core/kube';
import { DEFAULT_DISCOVERY_BUDGET } from '@anvil/boot-server/src/history/discovery-budget.js';
import { successStreamGA } from '../fixtures/subiquity/streams.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { HostType } from '../harness/installer-sim.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import type { RunningPostgres } from '../harness/postgres.js';
import { startPostgresAndControlPlane } from '../harness/start-together.js';
import { startBootServer, startOperator, type RunningProcess } from '../harness/processes.js';
import { refusedPosts, replay, webhookURLOf } from '../harness/replay.js';

jest.setTimeout(600_000);

type Host = BareMetalHost & KubeObject;
const TemplateType: ResourceType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true };
const ns = `netsec-${Date.now().toString(36)}-${process.pid}`;
/** Fresh each run, so a match can only come from this run. */
const PASSWORD = `pw-${randomBytes(12).toString('base64url')}`;
/** The flood comes from addresses of its own (the whole of 127/8 is this machine), so the rest of the test is not limited. */
const FLOOD_ADDRESS = '127.0.0.66';
const FEW_MACS_ADDRESS = '127.0.0.67';

const USER_DATA = `#cloud-config
autoinstall:
  version: 1
  identity:
    hostname: {{ host.hostname | yaml }}
    username: admin
    password: {{ adminPassword | password_hash | yaml }}
`;

const template = (name: string, kernelArgs?: string): KubeObject => ({
  apiVersion: 'anvil.dev/v1alpha1',
  kind: 'AutoinstallTemplate',
  metadata: { name, namespace: ns },
  spec: {
    boot: {
      kernel: { url: 'http://127.0.0.1:9/ubuntu/vmlinuz', sha256: 'a'.repeat(64) },
      initrd: { url: 'http://127.0.0.1:9/ubuntu/initrd', sha256: 'b'.repeat(64) },
      ...(kernelArgs !== undefined ? { kernelArgs } : {}),
    },
    userData: USER_DATA,
  },
});

const dashed = (mac: string) => mac.replace(/:/g, '-');
const randomMac = () => `52:54:${[...randomBytes(4)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
/** The installer's clock, two hours behind the server's (as in install-replay.test.ts). */
const installerClockNow = () => Date.now() / 1000 - 2 * 3600;

/** GET from a given local address (keep-alive through `agent`): the status and Retry-After. */
function getFrom(url: string, localAddress: string, agent: http.Agent): Promise<{ status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => void (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, ...(typeof res.headers['retry-after'] === 'string' ? { retryAfter: res.headers['retry-after'] } : {}) }));
    });
    req.on('error', reject);
  });
}

/** Runs `count` tasks with `parallel` in flight. */
async function inParallel<T>(count: number, parallel: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

describe('boot network security through the real boot-server, operator, kube-apiserver and PostgreSQL', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let pgServer: RunningPostgres;
  let pool: pg.Pool;
  let boot: RunningProcess;
  let operator: RunningProcess;

  const getHost = async (name: string) => (await client.get<Host>(HostType, { namespace: ns, name }))!;
  const published = async (name: string): Promise<BootConfig | undefined> => {
    const s = await client.get(CoreResources.secret, { namespace: ns, name: bootConfigSecretName(name) });
    return s ? fromSecret(s) : undefined;
  };
  const installConfig = (name: string) => waitFor(`${name}: install boot config published`, async () => ((await published(name))?.mode === 'install' ? published(name) : undefined), 60_000);
  const createHost = (name: string, mac: string, templateName = 'ubuntu') =>
    client.create(HostType, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'BareMetalHost',
      metadata: { name, namespace: ns },
      spec: {
        bootMACAddress: mac,
        hostname: name,
        templateRef: { name: templateName },
        secretRefs: [{ name: 'admin-credentials', key: 'password', variable: 'adminPassword' }],
        provisioning: { maxRetries: 0 },
      },
    });
  /** The boot-server's script for the MAC once it carries the install (the boot-server has the published config). */
  const installScript = (mac: string) =>
    waitFor(`install script of ${mac}`, async () => {
      const text = await (await fetch(`${boot.url}/ipxe/${dashed(mac)}?arch=x86_64&platform=efi`)).text();
      return text.includes('kernel ') ? text : undefined;
    }, 60_000);
  /** A sample of the boot-server's /metrics (the first whose line holds `labels`), 0 when absent. */
  const metric = async (name: string, labels = ''): Promise<number> => {
    const text = await (await fetch(`${boot.url}/metrics`)).text();
    const line = text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };
  const historyRecordsShipped = () => metric('anvil_sink_records_total', 'sink="history"');
  const spoolDrained = () => waitFor('the spool shipped', async () => (await metric('anvil_spool_backlog_bytes')) === 0, 120_000, 250);
  const count = async (query: string, params: unknown[] = []): Promise<number> => (await pool.query<{ n: number }>(query, params)).rows[0]!.n;

  /** Waits until a condition of the host has `reason`; on timeout the error shows the status. */
  const waitForReason = (name: string, reason: string): Promise<Host> =>
    waitFor(`${name}: a condition with reason ${reason}`, async () => {
      const h = await getHost(name);
      return h.status?.conditions?.some((c) => c.reason === reason) ? h : undefined;
    }, 60_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; status: ${JSON.stringify((await getHost(name)).status)}`);
    });

  /** Everything a secret could leak into, except the boot config Secrets (which hold the token by design). */
  async function everythingRecorded(): Promise<Record<string, string>> {
    const hosts = (await client.list<Host>(HostType, { namespace: ns })).items;
    const templates = (await client.list(TemplateType, { namespace: ns })).items;
    const events = (await client.list(CoreResources.event, { namespace: ns })).items;
    const history: Record<string, unknown[]> = {};
    for (const table of HISTORY_TABLES) history[table] = (await pool.query(`SELECT row_to_json(t)::text AS row FROM ${table} t`)).rows.map((r: { row: string }) => r.row);
    return {
      'boot-server log': boot.logs(),
      'operator log': operator.logs(),
      'host statuses': JSON.stringify(hosts.map((h) => ({ name: h.metadata.name, status: h.status }))),
      'template statuses': JSON.stringify(templates.map((t) => ({ name: t.metadata.name, status: (t as KubeObject & { status?: unknown }).status }))),
      'Kubernetes Events': JSON.stringify(events),
      'history rows': JSON.stringify(history),
      'boot-server metrics': await (await fetch(`${boot.url}/metrics`)).text(),
      'operator metrics': await (await fetch(`${operator.url}/metrics`)).text(),
    };
  }
  /** Where each needle was found: [] when nowhere. */
  const leaks = (recorded: Record<string, string>, needles: Record<string, string>): string[] =>
    Object.entries(needles).flatMap(([what, needle]) => Object.entries(recorded).filter(([, text]) => text.includes(needle)).map(([where]) => `${what} in ${where}`));
  /** A token, and its head and tail (what a truncated quote or a percent-encoded copy would contain: 96 bits each). */
  const tokenNeedles = (token: string, what = 'token'): Record<string, string> => ({ [what]: token, [`${what} head`]: token.slice(0, 16), [`${what} tail`]: token.slice(-16) });

  beforeAll(async () => {
    [pgServer, cp] = await startPostgresAndControlPlane();
    const databaseUrl = await pgServer.createDatabase('anvil_netsec');
    pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
    await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'admin-credentials', namespace: ns }, stringData: { password: PASSWORD } });
    await client.create(TemplateType, template('ubuntu', 'console=ttyS0'));
    // Every log line of both processes, at debug level (the harness default), is searched below.
    boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, extraArgs: ['--database-url', databaseUrl, '--namespace', ns] });
    operator = await startOperator({ kubeconfig: cp.kubeconfigPath, namespaces: [ns], bootServerURL: boot.url, extraArgs: ['--retry-base-seconds', '1'] });
  });

  afterAll(async () => {
    const steps: (() => Promise<unknown> | undefined)[] = [
      () => operator?.kill(),
      () => boot?.kill(),
      () => (operator ? Promise.resolve(rmSync(operator.dir, { recursive: true, force: true })) : undefined),
      () => (boot ? Promise.resolve(rmSync(boot.dir, { recursive: true, force: true })) : undefined),
      () => pool?.end(),
      () => cp?.stop(),
      () => pgServer?.stop(),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch {
        // the rest must still be cleaned up
      }
    }
  });

  it('(a) serves NoCloud by a route in capitals or percent-encoded, and its token is recorded nowhere', async () => {
    const mac = '52:54:00:5c:00:01';
    await createHost('seed', mac);
    const config = (await installConfig('seed'))!;
    const token = config.install!.token;
    await installScript(mac);
    const upper = dashed(mac).toUpperCase();
    const encodedToken = `%${token.charCodeAt(0).toString(16).toUpperCase()}${token.slice(1)}`;
    for (const path of [`/NOCLOUD/${upper}/${token}/user-data`, `/NoCloud/${dashed(mac)}/${encodedToken}/meta-data`]) {
      const res = await fetch(`${boot.url}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      await res.text();
    }
    // A route percent-encoded too: whatever the answer, the token is not recorded.
    await (await fetch(`${boot.url}/%4EOCLOUD/${upper}/${token}/user-data`)).text();
    await (await fetch(`${boot.url}/WEBHOOK/${upper}/${encodedToken}`, { method: 'POST', body: '{}' })).text();

    const host = await waitFor('the NoCloud request in the host status', async () => {
      const h = await getHost('seed');
      return h.status?.lastBootRequest?.served === 'MetaData' ? h : undefined;
    });
    expect(host.status?.lastBootRequest?.path).toBe(`/nocloud/${dashed(mac)}/REDACTED/meta-data`);
    await waitFor('both NoCloud requests in the history', async () => (await count(`SELECT count(*)::int AS n FROM boot_requests WHERE mac = $1 AND served IN ('UserData', 'MetaData')`, [mac])) >= 2);
    const paths = (await pool.query<{ path: string }>('SELECT path FROM boot_requests WHERE mac = $1 ORDER BY time', [mac])).rows.map((r) => r.path);
    expect(paths).toEqual(expect.arrayContaining([`/nocloud/${upper}/REDACTED/user-data`, `/nocloud/${dashed(mac)}/REDACTED/meta-data`]));

    expect(leaks(await everythingRecorded(), tokenNeedles(token))).toEqual([]);
  });

  it('(b) a whole install records neither the install token nor the Secret\'s plain password anywhere', async () => {
    const mac = '52:54:00:5c:00:02';
    await createHost('full', mac);
    const config = (await installConfig('full'))!;
    const token = config.install!.token;
    const script = await installScript(mac);
    const seed = /ds=nocloud-net;s=(\S+)/.exec(script)![1]!;
    const userData = await (await fetch(`${seed}user-data`)).text();
    expect((await fetch(`${seed}meta-data`)).status).toBe(200);
    // Only the hash is served.
    expect(userData).toMatch(/password: "?\$6\$/);
    expect(userData).not.toContain(PASSWORD);
    await waitFor('full Installing', async () => (await getHost('full')).status?.state === 'Installing', 60_000);

    const stream = successStreamGA(installerClockNow());
    const webhook = webhookURLOf(userData);
    expect(webhook).toContain(token);
    expect(refusedPosts(await replay(webhook, stream.beforeVerdict, { msPerInstallerSecond: 1, maxGapMs: 20 }))).toEqual([]);
    await waitFor('full Provisioned with a local boot config', async () => (await getHost('full')).status?.state === 'Provisioned' && (await published('full'))?.mode === 'local', 60_000);
    expect(refusedPosts(await replay(webhook, stream.afterVerdict, { msPerInstallerSecond: 1, maxGapMs: 20 }))).toEqual([]);
    const installationId = config.install!.installationId;
    await waitFor('every event and the verdict in the history', async () => {
      const events = await count('SELECT count(*)::int AS n FROM installer_events WHERE installation_id = $1', [installationId]);
      const finished = await count(`SELECT count(*)::int AS n FROM installations WHERE id = $1 AND result = 'SUCCESS'`, [installationId]);
      return events === stream.events.length && finished === 1;
    }, 60_000, 250);
    // The machine boots again: from its disk.
    expect(await (await fetch(`${boot.url}/ipxe/${dashed(mac)}`)).text()).not.toContain('kernel ');

    const recorded = await everythingRecorded();
    // The search finds what is there: the install is in the history and in the logs.
    expect(recorded['history rows']).toContain(installationId);
    expect(recorded['boot-server log']).toContain('/webhook/');
    expect(leaks(recorded, { ...tokenNeedles(token), password: PASSWORD })).toEqual([]);
  });

  it('(c) a flood of invented MACs from one address gets 429s and the history stays bounded', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    try {
      await spoolDrained();
      const before = {
        shipped: await historyRecordsShipped(),
        bootRequests: await count('SELECT count(*)::int AS n FROM boot_requests'),
        discovered: await count('SELECT count(*)::int AS n FROM discovered_machines'),
      };
      const answers = await inParallel(5000, 16, () => getFrom(`${boot.url}/ipxe/${dashed(randomMac())}`, FLOOD_ADDRESS, agent));
      const served = answers.filter((a) => a.status === 200).length;
      const limited = answers.filter((a) => a.status === 429);
      expect(served + limited.length).toBe(5000);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited[0]).toMatchObject({ retryAfter: expect.stringMatching(/^\d+$/), body: expect.stringContaining('too many requests') });
      // A few machines seen many times, from another address: one row each.
      const few = [randomMac(), randomMac(), randomMac()];
      const fewAnswers = await inParallel(300, 16, (i) => getFrom(`${boot.url}/ipxe/${dashed(few[i % 3]!)}?arch=x86_64&platform=efi`, FEW_MACS_ADDRESS, agent));
      expect(fewAnswers.filter((a) => a.status === 200)).toHaveLength(300);

      await waitFor('every served request shipped to the history', async () => (await historyRecordsShipped()) - before.shipped >= served + 300, 120_000, 250);
      await spoolDrained();
      expect(await count('SELECT count(*)::int AS n FROM boot_requests')).toBe(before.bootRequests);
      const flooded = await count('SELECT count(*)::int AS n FROM discovered_machines WHERE last_ip = $1', [FLOOD_ADDRESS]);
      expect(flooded).toBeGreaterThan(0);
      expect(flooded).toBeLessThanOrEqual(Math.min(served, DEFAULT_DISCOVERY_BUDGET.perSource));
      const rows = (await pool.query<{ mac: string; seen_count: string; arch: string }>('SELECT mac, seen_count, arch FROM discovered_machines WHERE last_ip = $1 ORDER BY mac', [FEW_MACS_ADDRESS])).rows;
      expect(rows.map((r) => ({ ...r, seen_count: Number(r.seen_count) }))).toEqual([...few].sort().map((mac) => ({ mac, seen_count: 100, arch: 'x86_64' })));
      expect(await count('SELECT count(*)::int AS n FROM discovered_machines')).toBe(before.discovered + flooded + 3);
    } finally {
      agent.destroy();
    }
  });

  it('(d) kernel args with an unbalanced quote: a clear status, no install boot config, and no token in the message', async () => {
    // Short, so the message's quote of the command line reaches the seed URL anvil appends (with the token).
    const BAD_ARGS = 'console=ttyS0 "quiet';
    await client.create(TemplateType, template('bad-args', BAD_ARGS));
    const mac = '52:54:00:5c:00:04';
    await createHost('bad-args', mac, 'bad-args');
    const refused = await waitForReason('bad-args', 'InvalidKernelArgs');
    expect(refused.status?.errorMessage).toMatch(/^boot\.kernelArgs of template bad-args: kernel args have an unbalanced double quote: console=ttyS0 "quiet/);
    expect(refused.status?.errorMessage).toContain(`/nocloud/${dashed(mac)}/REDACTED/`);
    expect((await published('bad-args'))?.mode).not.toBe('install');
    expect(await (await fetch(`${boot.url}/ipxe/${dashed(mac)}`)).text()).not.toContain('kernel ');

    // An attempt under way keeps what was published when its template breaks; the status says so, without the
    // attempt's token (which the machine is using).
    await client.create(TemplateType, template('kept', 'console=ttyS0'));
    await createHost('kept', '52:54:00:5c:00:05', 'kept');
    const config = (await installConfig('kept'))!;
    await client.patch(TemplateType, { namespace: ns, name: 'kept' }, 'merge', { spec: { boot: { kernelArgs: BAD_ARGS } } });
    const kept = await waitForReason('kept', 'KeptForAttempt');
    expect(JSON.stringify(kept.status)).toContain('unbalanced double quote');
    expect((await published('kept'))?.install?.token).toBe(config.install!.token);
    expect(leaks(await everythingRecorded(), tokenNeedles(config.install!.token, 'running attempt\'s token'))).toEqual([]);
  });
});
