// Helpers for tests that talk to the real API server started by control-plane.ts.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import { RestKubeClient, loadKubeConfig } from '@anvil/core/kube/rest-client';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import type { ControlPlane } from './control-plane.js';

export function clientFor(cp: ControlPlane, onRequest?: (verb: string) => void): KubeClient {
  return new RestKubeClient(loadKubeConfig(cp.kubeconfigPath), onRequest ? { onRequest } : {});
}

export function readYamlObjects(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => !!o && typeof o === 'object');
}

export function yamlFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** Creates (or updates) the CRDs and waits until the API server serves them. */
export async function installCrds(client: KubeClient, crds: KubeObject[]): Promise<void> {
  for (const crd of crds) {
    await client.patch(CoreResources.crd, { name: crd.metadata.name! }, 'apply', JSON.stringify(crd), { fieldManager: 'anvil-test', force: true });
  }
  await waitEstablished(client, crds);
}

/**
 * Creates third-party CRDs as they are. Not with server-side apply: kube-apiserver 1.20 refuses fields newer than
 * itself there (`selectableFields`, `x-kubernetes-validations`), while a plain create drops them, as a 1.20 cluster
 * would (so CEL rules are not enforced in these tests).
 */
export async function createCrdsAsIs(client: KubeClient, crds: KubeObject[]): Promise<void> {
  for (const crd of crds) {
    if (!(await client.get(CoreResources.crd, { name: crd.metadata.name! }))) await client.create(CoreResources.crd, crd);
  }
  await waitEstablished(client, crds);
}

/** Paths of `sent` that are missing from (or differ in) `got`: what the API server pruned. */
export function prunedPaths(sent: unknown, got: unknown, path = ''): string[] {
  if (sent && typeof sent === 'object' && !Array.isArray(sent)) {
    if (!got || typeof got !== 'object' || Array.isArray(got)) return [path || '.'];
    return Object.entries(sent).flatMap(([k, v]) => prunedPaths(v, (got as Record<string, unknown>)[k], `${path}.${k}`));
  }
  if (Array.isArray(sent)) {
    if (!Array.isArray(got) || got.length !== sent.length) return [path];
    return sent.flatMap((v, i) => prunedPaths(v, got[i], `${path}[${i}]`));
  }
  return sent === got ? [] : [path];
}

async function waitEstablished(client: KubeClient, crds: KubeObject[]): Promise<void> {
  for (const crd of crds) {
    await waitFor(`CRD ${crd.metadata.name} established`, async () => {
      const got = await client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(CoreResources.crd, {
        name: crd.metadata.name!,
      });
      return got?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
  }
}

export async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  const existing = await client.get(CoreResources.namespace, { name });
  if (!existing) await client.create(CoreResources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}
