// A lab for webhook tests: a real kube-apiserver, the operator's controllers in-process, real PostgreSQL for the
// install history and the real boot-server process, with a few hosts waiting in their install. Tests post to the
// hosts' webhooks, restart the boot-server, and read back the history with SQL and the hosts' status.
import { rmSync } from 'node:fs';
import pg from 'pg';
import { anvilCrds, type BareMetalHost } from '@anvil/core/api';
import { fromSecret } from '@anvil/core/bootconfig';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import type { ControlPlane } from './control-plane.js';
import { createMinimalTemplate, HostType } from './installer-sim.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from './kube.js';
import { restartBootServer, startBootServer, type RunningProcess } from './processes.js';
import { startPostgresAndControlPlane } from './start-together.js';

export type Host = BareMetalHost & KubeObject;


export interface LabHost {
  name: string;
  /** Colon form, lower case. */
  mac: string;
  uid: string;
  installationId: string;
  revision: number;
  attempt: number;
  /** The webhook URL the rendered user-data tells the installer to post to (contains the token). */
  webhook: string;
}

/** One installer_events row as PostgreSQL returns it. */
export interface StoredEventRow {
  installation_id: string;
  event_key: string;
  name: string;
  event_type: string;
  result: string | null;
  origin: string | null;
  level: string | null;
  description: string | null;
  event_time: Date;
  received_at: Date;
  raw: Record<string, unknown> | null;
}

export interface WebhookLab {
  readonly cp: ControlPlane;
  readonly client: KubeClient;
  readonly namespace: string;
  readonly databaseUrl: string;
  readonly hosts: LabHost[];
  /** The running boot-server (replaced by restartBoot). */
  boot(): RunningProcess;
  /** Stops the boot-server with `signal` and starts it again on the same port and directories. */
  restartBoot(signal: NodeJS.Signals): Promise<void>;
  /** Stops the boot-server (for tests that change its directories while it is down); startBoot() brings it back. */
  stopBoot(signal: NodeJS.Signals): Promise<void>;
  startBoot(): Promise<void>;
  /** The boot-server's spool directory (stable across restarts). */
  spoolDir: string;
  sql<T extends object>(text: string, params?: unknown[]): Promise<T[]>;
  events(installationId: string): Promise<StoredEventRow[]>;
  host(name: string): Promise<Host | undefined>;
  /** Sum of all series of a metric on the boot-server's /metrics; undefined when the metric is not exported. */
  metric(name: string): Promise<number | undefined>;
  stop(): Promise<void>;
}

export interface WebhookLabOptions {
  namespace: string;
  database: string;
  /** Host names; MACs are derived from macPrefix (5 bytes, e.g. '52:54:00:e1') and the index. */
  hostNames: string[];
  macPrefix: string;
  bootServerArgs?: string[];
}

export async function startWebhookLab(options: WebhookLabOptions): Promise<WebhookLab> {
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const [pgServer, cp] = await startPostgresAndControlPlane();
    cleanups.push(() => pgServer.stop());
    cleanups.push(() => cp.stop());
    const databaseUrl = await pgServer.createDatabase(options.database);
    const client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, options.namespace);

    const bootArgs = ['--database-url', databaseUrl, ...(options.bootServerArgs ?? [])];
    let boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, extraArgs: bootArgs });
    const bootDir = boot.dir;
    const bootPort = boot.port;
    let bootRunning = true;
    cleanups.push(async () => {
      await boot.kill('SIGKILL');
      rmSync(bootDir, { recursive: true, force: true });
    });

    const ns = options.namespace;
    await createMinimalTemplate(client, ns);
    const manager = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'test', namespaces: [ns] });
    registerControllers(manager, { maxConcurrentReconciles: 2, log: silentLogger(), bootServerURL: boot.url });
    await manager.start();
    cleanups.push(() => manager.stop());

    const hosts: LabHost[] = [];
    for (const [i, name] of options.hostNames.entries()) {
      const mac = `${options.macPrefix}:${i.toString(16).padStart(2, '0')}`.toLowerCase();
      await client.create(HostType, {
        apiVersion: 'anvil.dev/v1alpha1',
        kind: 'BareMetalHost',
        metadata: { name, namespace: ns },
        spec: { bootMACAddress: mac, templateRef: { name: 't' }, secretRefs: [{ name: 'creds', key: 'hash', variable: 'hash' }] },
      });
      const config = await waitFor(`${name} boot config`, async () => {
        const s = await client.get(CoreResources.secret, { namespace: ns, name: `${name}-bootconfig` });
        const c = s ? fromSecret(s) : undefined;
        return c?.mode === 'install' ? c : undefined;
      }, 60_000);
      const install = config.install!;
      const webhook = /endpoint: (\S+)/.exec(install.userData)?.[1];
      if (!webhook) throw new Error(`no webhook endpoint in the user-data of ${name}`);
      hosts.push({ name, mac, uid: config.hostUID, installationId: install.installationId, revision: install.revision, attempt: install.attempt, webhook });
    }
    for (const h of hosts) {
      await waitFor(`${h.name} current install recorded in status`, async () =>
        (await client.get<Host>(HostType, { namespace: ns, name: h.name }))?.status?.currentInstall?.installationId === h.installationId, 60_000);
      await waitFor(`boot-server serves ${h.name}'s install script`, async () =>
        (await (await fetch(`${boot.url}/ipxe/${h.mac.replace(/:/g, '-')}`)).text()).includes('kernel'), 60_000);
    }

    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    pool.on('error', () => undefined); // an idle client losing its connection must not crash the test process
    cleanups.push(() => pool.end());
    const sql = async <T extends object>(text: string, params: unknown[] = []): Promise<T[]> => (await pool.query(text, params)).rows as T[];

    const lab: WebhookLab = {
      cp,
      client,
      namespace: ns,
      databaseUrl,
      hosts,
      spoolDir: `${bootDir}/spool`,
      boot: () => boot,
      async restartBoot(signal) {
        boot = await restartBootServer(boot, signal, { kubeconfig: cp.kubeconfigPath, extraArgs: bootArgs });
        bootRunning = true;
      },
      async stopBoot(signal) {
        await boot.kill(signal);
        bootRunning = false;
      },
      async startBoot() {
        if (bootRunning) throw new Error('boot-server is running');
        boot = await startBootServer({ kubeconfig: cp.kubeconfigPath, dir: bootDir, port: bootPort, extraArgs: bootArgs });
        bootRunning = true;
      },
      sql,
      events: (installationId) =>
        sql<StoredEventRow>(
          'SELECT installation_id, event_key, name, event_type, result, origin, level, description, event_time, received_at, raw FROM installer_events WHERE installation_id = $1',
          [installationId],
        ),
      host: (name) => client.get<Host>(HostType, { namespace: ns, name }),
      async metric(name) {
        const text = await (await fetch(`${boot.url}/metrics`)).text();
        let sum: number | undefined;
        for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum = (sum ?? 0) + Number(m[1]);
        return sum;
      },
      stop: stopAll,
    };
    return lab;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Characters no sink can hold: NUL, and UTF-16 surrogates without their pair. */
// eslint-disable-next-line no-control-regex
export const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Every string in a JSON value, keys included. */
export function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...stringsIn(v)]);
  return [];
}
