// anvil's operator as a real process (operator/src/main.ts) against a control plane, and what the operator benchmarks
// create: a credentials Secret, an AutoinstallTemplate and BareMetalHosts that use both.
import { join } from 'node:path';
import type { KubeClient, KubeObject, ResourceType } from '@anvil/core/kube';
import { CoreResources } from '@anvil/core/kube';
import { freePort } from '../../test/harness/control-plane.js';
import { waitFor } from '../../test/harness/kube.js';
import { ROOT } from './anchors.js';
import { startServer, type Server } from './procs.js';

export const HostType: ResourceType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'BareMetalHost', plural: 'baremetalhosts', namespaced: true };
export const TemplateType: ResourceType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'AutoinstallTemplate', plural: 'autoinstalltemplates', namespaced: true };
const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';

export interface RunningOperator {
  server: Server;
  metricsURL: string;
  /** Prometheus text of the operator's /metrics. */
  metrics(): Promise<string>;
}

/** Starts the operator for one namespace, leader election off (a single replica), at its production log level. */
export async function startOperator(options: {
  kubeconfig: string;
  namespace: string;
  bootServerURL: string;
  workDir: string;
  cpuProfDir?: string;
  /** --resync-period; the operator's default (600 s) when unset. */
  resyncSeconds?: number;
  logName?: string;
  /** A compiled operator's main.js (as the image runs it, bench/lib/compiled-app.ts); the sources through tsx otherwise. */
  entry?: string;
}): Promise<RunningOperator> {
  const port = await freePort();
  const server = startServer(
    'operator',
    process.execPath,
    [
      ...(options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : []),
      ...(options.entry ? [options.entry] : ['--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'operator', 'src', 'main.ts')]),
      '--kubeconfig', options.kubeconfig, '--namespace', options.namespace, '--leader-elect', 'false',
      '--metrics-host', '127.0.0.1', '--metrics-port', String(port), '--boot-server-url', options.bootServerURL,
      ...(options.resyncSeconds !== undefined ? ['--resync-period', String(options.resyncSeconds)] : []),
    ],
    { logFile: join(options.workDir, options.logName ?? 'operator.log'), env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'info' } },
  );
  const metricsURL = `http://127.0.0.1:${port}`;
  await waitFor('the operator ready', async () => {
    if (server.child.exitCode !== null) throw new Error(`operator exited:\n${server.logs().slice(-3000)}`);
    return (await fetch(`${metricsURL}/readyz`).catch(() => undefined))?.ok;
  }, 60_000, 200);
  return { server, metricsURL, metrics: async () => (await fetch(`${metricsURL}/metrics`)).text() };
}

/** Sum of a Prometheus counter's samples whose labels contain every `match` pair. */
export function counterSum(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The Secret and AutoinstallTemplate every benchmark host uses (kernel and initrd as given, or placeholders). */
export async function createTemplate(client: KubeClient, namespace: string, boot?: { kernel: { url: string; sha256: string }; initrd: { url: string; sha256: string }; kernelArgs: string }): Promise<void> {
  await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bench-credentials', namespace }, stringData: { hash: HASH } });
  await client.create(TemplateType, {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'AutoinstallTemplate',
    metadata: { name: 'bench', namespace },
    spec: {
      boot: boot ?? {
        kernel: { url: 'http://mirror.test/ubuntu/vmlinuz', sha256: 'a'.repeat(64) },
        initrd: { url: 'http://mirror.test/ubuntu/initrd', sha256: 'b'.repeat(64) },
        kernelArgs: 'console=ttyS0',
      },
      userData: '#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: {{ host.hostname | yaml }}\n    username: ubuntu\n    password: {{ hash | yaml }}\n',
    },
  });
  await waitFor('the template valid', async () => {
    const t = await client.get<KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>(TemplateType, { namespace, name: 'bench' });
    return t?.status?.conditions?.some((c) => c.type === 'Valid' && c.status === 'True');
  }, 60_000, 200);
}

export function hostObject(namespace: string, name: string, mac: string): KubeObject {
  return {
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name, namespace },
    spec: { bootMACAddress: mac, hostname: name, templateRef: { name: 'bench' }, secretRefs: [{ name: 'bench-credentials', key: 'hash', variable: 'hash' }] },
  };
}
