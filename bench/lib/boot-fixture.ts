// A running boot-server (the real process, boot-server/src/main.ts) against a real kube-apiserver, with published
// boot configs for `hosts` machines in install mode and a large asset already in its cache.
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { anvilCrds } from '@anvil/core/api';
import { newToken, sha256Hex, toSecret, type BootConfig } from '@anvil/core/bootconfig';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { controlPlaneMissing, startControlPlane, type ControlPlane } from '../../test/harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../../test/harness/kube.js';
import { startBootServer, type RunningProcess } from '../../test/harness/processes.js';
import { writeRandomFile } from '../../test/tftp/tools.js';

export const NAMESPACE = 'bench';

export interface BenchHost {
  mac: string;
  token: string;
  config: BootConfig;
}

export interface BootFixture {
  cp: ControlPlane;
  client: KubeClient;
  boot: RunningProcess;
  hosts: BenchHost[];
  /** The large asset: its path on disk, sha256 and URL path on the boot-server. */
  asset: { path: string; sha256: string; urlPath: string; size: number };
  stop(): Promise<void>;
}

export const macOf = (i: number): string => `52:54:00:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

export async function startControlPlaneOrExplain(): Promise<ControlPlane> {
  const missing = controlPlaneMissing();
  if (missing) throw new Error(missing);
  return startControlPlane();
}

/** Creates `count` objects with at most `parallel` requests in flight. */
export async function createAll(count: number, parallel: number, create: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) await create(next++);
    }),
  );
}

export async function startBootFixture(options: { hosts: number; assetBytes: number; workDir: string; databaseUrl?: string; cpuProfDir?: string; env?: Record<string, string> }): Promise<BootFixture> {
  const cp = await startControlPlaneOrExplain();
  try {
    const client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, NAMESPACE);

    const dir = join(options.workDir, 'boot');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    const assetPath = join(dir, 'asset.iso');
    await writeRandomFile(assetPath, options.assetBytes);
    const { readFile, rename } = await import('node:fs/promises');
    const sha256 = createHash('sha256').update(await readFile(assetPath)).digest('hex');
    const initrd = { url: 'http://127.0.0.1:9/initrd', sha256: sha256Hex('initrd') };

    const hosts: BenchHost[] = [];
    for (let i = 0; i < options.hosts; i++) {
      const mac = macOf(i);
      const token = newToken();
      const name = `node-${String(i).padStart(5, '0')}`;
      const config: BootConfig = {
        mode: 'install',
        hostName: name,
        hostNamespace: NAMESPACE,
        hostUID: randomUUID(),
        mac,
        ipxe: `#!ipxe\nkernel http://127.0.0.1/assets/${sha256}/vmlinuz ip=dhcp ds=nocloud-net;s=http://127.0.0.1/nocloud/${mac.replace(/:/g, '-')}/${token}/ autoinstall console=ttyS0\ninitrd http://127.0.0.1/assets/${initrd.sha256}/initrd\nboot\n`,
        install: {
          installationId: randomUUID(),
          revision: 1,
          attempt: 1,
          token,
          tokenSha256: sha256Hex(token),
          userData: `#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: ${name}\n    username: ubuntu\n    password: "$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0"\n  reporting:\n    anvil:\n      type: webhook\n      endpoint: http://127.0.0.1/webhook/${mac.replace(/:/g, '-')}/${token}\n`,
          metaData: `instance-id: ${name}\nlocal-hostname: ${name}\n`,
          kernel: { url: 'http://127.0.0.1:9/vmlinuz', sha256 },
          initrd,
        },
      };
      hosts.push({ mac, token, config });
    }
    await createAll(hosts.length, 16, (i) => client.create(CoreResources.secret, toSecret(hosts[i]!.config, NAMESPACE)));

    const boot = await startBootServer({
      kubeconfig: cp.kubeconfigPath,
      dir,
      // Production log level (the harness defaults to debug, which logs every request).
      // Load generators hammer from one address: the per-address limit would answer them 429.
      env: { LOG_LEVEL: 'info', RATE_LIMIT_PER_SECOND: '0', ...options.env, ...(options.cpuProfDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${options.cpuProfDir}` } : {}) },
      extraArgs: ['--namespace', NAMESPACE, ...(options.databaseUrl ? ['--database-url', options.databaseUrl] : [])],
    });
    // The asset is "already fetched": placed in the cache under its sha256, as the cache does after verifying it.
    await rename(assetPath, join(dir, 'assets', sha256));
    const last = hosts.at(-1);
    if (last) {
      await waitFor('boot configs served', async () => (await fetch(`${boot.url}/ipxe/${last.mac.replace(/:/g, '-')}`)).status === 200 && (await fetch(`${boot.url}/readyz`)).ok, 60_000, 200);
    }
    return {
      cp,
      client,
      boot,
      hosts,
      asset: { path: join(dir, 'assets', sha256), sha256, urlPath: `/assets/${sha256}/installer.iso`, size: options.assetBytes },
      stop: async () => {
        await boot.kill();
        await cp.stop();
      },
    };
  } catch (err) {
    await cp.stop();
    throw err;
  }
}
