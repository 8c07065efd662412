// The test cluster itself: a Ready node that runs pods from locally imported images, Services through kube-proxy,
// the apiserver reachable from pods, and ServiceAccount tokens from the TokenRequest API.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { waitFor } from '../harness/kube.js';

const MINUTE = 60_000;
// what the kubelet changes machine-wide at its start
const SYSCTLS = ['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops'];
const CLUSTER_REGISTRY = '/run/anvil-clusters';
let cluster: Cluster;
let sysctlsBefore: Record<string, string>;
let otherClustersAtStart: boolean;

function readSysctls(): Record<string, string> {
  return Object.fromEntries(SYSCTLS.map((s) => [s, readFileSync(`/proc/sys/${s}`, 'utf8').trim()]));
}

beforeAll(async () => {
  otherClustersAtStart = existsSync(CLUSTER_REGISTRY);
  sysctlsBefore = readSysctls();
  cluster = await startCluster();
}, 20 * MINUTE);

afterAll(async () => {
  await cluster?.stop();
}, 5 * MINUTE);

interface PodStatus {
  status: { phase?: string; podIP?: string; containerStatuses?: { ready: boolean; restartCount: number }[] };
}

async function podPhase(namespace: string, name: string): Promise<PodStatus['status']> {
  const pod = JSON.parse(await cluster.kubectl(['-n', namespace, 'get', 'pod', name, '-o', 'json'])) as PodStatus;
  return pod.status;
}

describe('single-node test cluster', () => {
  test('the node is Ready and runs the release of the binaries it was started with', async () => {
    const node = JSON.parse(await cluster.kubectl(['get', 'node', cluster.nodeName, '-o', 'json'])) as {
      status: { conditions: { type: string; status: string }[]; nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string } };
    };
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.status.nodeInfo.kubeletVersion).toBe(cluster.version);
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
  });

  test('a busybox pod runs, and its ClusterIP Service answers from another pod and from the node', async () => {
    const ns = `smoke-${Date.now().toString(36)}`;
    await cluster.kubectl(['create', 'namespace', ns]);
    await waitFor('the namespace default ServiceAccount', async () => (await cluster.kubectl(['-n', ns, 'get', 'sa', 'default', '-o', 'name'])).trim(), 2 * MINUTE, 1000);
    const server = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'web', labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'localhost/busybox:k8s',
                imagePullPolicy: 'Never',
                command: ['sh', '-c', `mkdir -p /www && echo hello-from-${ns} > /www/index.html && exec httpd -f -p 8080 -h /www`],
                ports: [{ containerPort: 8080 }],
                readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'web' },
          spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
        },
      ],
    };
    await cluster.kubectl(['-n', ns, 'apply', '-f', '-'], { input: JSON.stringify(server) });
    await waitFor('pod web Running and Ready', async () => {
      const s = await podPhase(ns, 'web');
      return s.phase === 'Running' && s.containerStatuses?.[0]?.ready === true;
    }, 3 * MINUTE, 1000);
    const clusterIP = (await cluster.kubectl(['-n', ns, 'get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    expect(clusterIP).toMatch(/^10\.96\./);

    // A second pod, started after the Service: it finds it by environment (there is no cluster DNS) and reaches it
    // through kube-proxy's DNAT; and it reaches the apiserver through the `kubernetes` Service with its mounted token.
    const client = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'client' },
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'client',
            image: 'localhost/busybox:k8s',
            imagePullPolicy: 'Never',
            command: [
              'sh', '-c',
              [
                'set -e',
                'echo "web: $(printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 5 $WEB_SERVICE_HOST $WEB_SERVICE_PORT | tail -1)"',
                'echo "apiserver: $(printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 5 $KUBERNETES_SERVICE_HOST $KUBERNETES_SERVICE_PORT | head -1)"',
                'test -s /var/run/secrets/kubernetes.io/serviceaccount/token && echo token: mounted',
              ].join('\n'),
            ],
          },
        ],
      },
    };
    await cluster.kubectl(['-n', ns, 'apply', '-f', '-'], { input: JSON.stringify(client) });
    await waitFor('pod client Succeeded', async () => {
      const phase = (await podPhase(ns, 'client')).phase;
      if (phase === 'Failed') throw new Error(`client pod failed:\n${await cluster.kubectl(['-n', ns, 'logs', 'client'])}`);
      return phase === 'Succeeded';
    }, 3 * MINUTE, 1000);
    const logs = await cluster.kubectl(['-n', ns, 'logs', 'client']);
    expect(logs).toContain(`web: hello-from-${ns}`);
    // TLS port answering plain HTTP: the apiserver is there
    expect(logs).toMatch(/apiserver: HTTP\/1\.[01] 400/);
    expect(logs).toContain('token: mounted');

    // the node's own network namespace (where hostNetwork pods live) reaches the Service too
    const fromNode = await cluster.nsrun(['curl', '-sS', '--max-time', '10', `http://${clusterIP}/`]);
    expect(fromNode.trim()).toBe(`hello-from-${ns}`);
  }, 10 * MINUTE);

  test('a ServiceAccount token from the TokenRequest API authenticates as that ServiceAccount', async () => {
    const ns = `token-${Date.now().toString(36)}`;
    await cluster.kubectl(['create', 'namespace', ns]);
    await cluster.kubectl(['-n', ns, 'create', 'serviceaccount', 'reader']);
    const token = await cluster.requestToken(ns, 'reader', 600);
    const review = JSON.parse(
      await cluster.kubectl(['create', '-f', '-', '-o', 'json'], {
        input: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }),
      }),
    ) as { status: { authenticated?: boolean; user?: { username?: string } } };
    expect(review.status.authenticated).toBe(true);
    expect(review.status.user?.username).toBe(`system:serviceaccount:${ns}:reader`);
  }, 5 * MINUTE);

  test('stop leaves nothing running and restores the kernel settings the kubelet changed', async () => {
    const { dir, holderPid, cgroupRoot } = cluster;
    expect(existsSync(`/proc/${holderPid}`)).toBe(true);
    // the kubelet's values while it runs
    expect(readSysctls()).toEqual({ 'vm/overcommit_memory': '1', 'kernel/panic': '10', 'kernel/panic_on_oops': '1' });
    await cluster.stop();

    expect(existsSync(`/proc/${holderPid}`)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    const left = readdirSync('/proc').filter((p) => {
      try {
        return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    });
    expect(left).toEqual([]);
    expect(readdirSync('/sys/fs/cgroup').filter((c) => existsSync(join('/sys/fs/cgroup', c, cgroupRoot)))).toEqual([]);
    // the values are put back by the last cluster to stop: only checkable when no other one ran meanwhile
    if (!otherClustersAtStart && !existsSync(CLUSTER_REGISTRY)) expect(readSysctls()).toEqual(sysctlsBefore);
  }, 5 * MINUTE);
});
