// anvil as a user installs it: the image built from the checkout's Dockerfile, `helm install` of charts/anvil with its
// defaults (plus the local image), every pod Ready, then the quickstart applied: the operator takes the host to
// Provisioning and the boot-server pod serves the iPXE scripts a machine would fetch.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { createBootServerVolume, startCluster, type Cluster } from '../harness/cluster.js';
import { waitFor } from '../harness/kube.js';
import { ROOT } from '../harness/processes.js';

const MINUTE = 60_000;
const TAG = process.env.ANVIL_CLUSTER_IMAGE_TAG ?? 'test';
const NS = 'anvil';
const RELEASE = 'anvil';
const QUICKSTART_MAC = '52-54-00-12-34-01';
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ anvilTag: TAG });
}, 40 * MINUTE);

afterAll(async () => {
  await cluster?.stop();
}, 5 * MINUTE);

interface Pod {
  metadata: { name: string };
  status: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; restartCount: number; lastState?: { terminated?: { reason?: string; exitCode?: number } } }[];
  };
}

async function pods(): Promise<Pod[]> {
  return (JSON.parse(await cluster.kubectl(['-n', NS, 'get', 'pods', '-o', 'json'])) as { items: Pod[] }).items;
}

function restarts(list: Pod[]): string[] {
  return list.flatMap((p) =>
    (p.status.containerStatuses ?? [])
      .filter((c) => c.restartCount > 0)
      .map((c) => `${p.metadata.name}/${c.name}: ${c.restartCount} restarts, last ${c.lastState?.terminated?.reason ?? '?'} (exit ${c.lastState?.terminated?.exitCode ?? '?'})`),
  );
}

describe('helm install of charts/anvil on a real node', () => {
  test('with the defaults and the local image, every pod becomes Ready', async () => {
    await createBootServerVolume(cluster);
    await cluster.helm(
      [
        'install', RELEASE, join(ROOT, 'charts', 'anvil'), '--namespace', NS, '--create-namespace',
        // the chart's defaults but for the image, which is only in the node's containerd (no registry here)
        '--set', 'image.repository=localhost/anvil', '--set', `image.tag=${TAG}`, '--set', 'image.pullPolicy=Never',
      ],
      { timeoutMs: 5 * MINUTE },
    );
    // done when all are Ready, or as soon as a container restarts (an OOM kill, a crash at start)
    const outcome = await waitFor('every anvil pod Running and Ready', async () => {
      const list = await pods();
      const crashed = restarts(list);
      if (crashed.length) return { crashed };
      // two operator replicas (one leads) and one boot-server
      const ready = list.length === 3 && list.every((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready ? { crashed } : undefined;
    }, 10 * MINUTE, 2000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await cluster.diagnostics()}`);
    });
    expect(outcome.crashed).toEqual([]);
    expect(restarts(await pods())).toEqual([]);
  }, 20 * MINUTE);

  test('the quickstart host reaches Provisioning and the boot-server pod serves its iPXE scripts', async () => {
    await cluster.kubectl(['apply', '-n', 'default', '-f', join(ROOT, 'examples', 'quickstart')]);
    try {
      await waitFor('BareMetalHost node-01 Provisioning', async () => {
        const state = await cluster.kubectl(['-n', 'default', 'get', 'baremetalhost', 'node-01', '-o', 'jsonpath={.status.state}']);
        return state.trim() === 'Provisioning';
      }, 5 * MINUTE, 2000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await cluster.diagnostics()}`);
    }

    // no cluster DNS here: the Service by its ClusterIP, from the node (as a machine on a bridged network would)
    const service = await cluster.kubectl(['-n', NS, 'get', 'svc', '-l', 'app.kubernetes.io/component=boot-server', '-o', 'json']);
    const svc = (JSON.parse(service) as { items: { spec: { clusterIP: string; ports: { name: string; port: number }[] } }[] }).items[0];
    expect(svc).toBeDefined();
    const http = svc!.spec.ports.find((p) => p.name === 'http');
    const base = `http://${svc!.spec.clusterIP}:${http?.port ?? 8080}`;

    const entry = await cluster.nsrun(['curl', '-sSf', '--max-time', '10', `${base}/boot.ipxe`]);
    expect(entry.startsWith('#!ipxe')).toBe(true);
    // the host's own script: kernel and initrd of its template, fetched through the boot-server
    const script = await waitFor('the per-MAC iPXE script of node-01', async () => {
      const s = await cluster.nsrun(['curl', '-sSf', '--max-time', '10', `${base}/ipxe/${QUICKSTART_MAC}`]);
      return /^kernel /m.test(s) ? s : undefined;
    }, 2 * MINUTE, 2000);
    expect(script).toMatch(/^initrd /m);
  }, 15 * MINUTE);
});
