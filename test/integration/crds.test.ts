// Our CRDs on a real kube-apiserver: they install, `kubectl explain` documents them, valid examples are accepted
// and invalid ones rejected at the field their fixture names.
import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { anvilCrds } from '@anvil/core/api';
import { ApiError, type KubeClient, type KubeObject, type ResourceType } from '@anvil/core/kube';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, readYamlObjects, waitFor, yamlFilesIn } from '../harness/kube.js';
import { kubeTools } from '../harness/tools.js';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

jest.setTimeout(120_000);

const fixtures = join(HERE, '..', 'fixtures', 'crds');

function typeOf(obj: KubeObject): ResourceType {
  const crd = anvilCrds.find((c) => c.spec.names.kind === obj.kind);
  if (!crd) throw new Error(`no CRD for kind ${obj.kind}`);
  return { group: crd.spec.group, version: 'v1alpha1', kind: crd.spec.names.kind, plural: crd.spec.names.plural, namespaced: true };
}

describe('anvil CRDs on a real API server', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  const ns = 'crd-fixtures';

  beforeAll(async () => {
    cp = await startControlPlane();
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it('are structural: no NonStructuralSchema condition', async () => {
    for (const crd of anvilCrds) {
      const got = await client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(
        { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false },
        { name: crd.metadata.name },
      );
      expect(got?.status?.conditions?.find((c) => c.type === 'NonStructuralSchema')).toBeUndefined();
    }
  });

  it('kubectl apply -f crds/ and kubectl explain bmh.spec show documented fields', async () => {
    const { kubectl } = kubeTools();
    const env = { ...process.env, KUBECONFIG: cp.kubeconfigPath };
    execFileSync(kubectl, ['apply', '-f', join(HERE, '..', '..', 'crds')], { env, encoding: 'utf8' });
    // The API server publishes each new CRD's OpenAPI a moment after it is established, one CRD at a time.
    const explain = (path: string) =>
      waitFor(`kubectl explain ${path}`, async () => {
        try {
          return execFileSync(kubectl, ['explain', path], { env, encoding: 'utf8', stdio: 'pipe' });
        } catch {
          return undefined;
        }
      }, 30_000, 500);
    const explained = await explain('bmh.spec');
    expect(explained).toContain('bootMACAddress');
    expect(explained).toMatch(/templateRef/);
    expect(explained).toMatch(/DESCRIPTION|FIELDS/);
    const mac = await explain('baremetalhost.spec.bootMACAddress');
    expect(mac.toLowerCase()).toContain('mac');
    const status = await explain('proxmoxtemplate.status.phase');
    expect(status).toMatch(/Downloading|phase/i);
  });

  it('accepts empty strings, zero and false in typed fields (the patched 1.20 validator)', async () => {
    const bmh = { group: 'anvil.dev', version: 'v1alpha1', kind: 'BareMetalHost', plural: 'baremetalhosts', namespaced: true };
    const created = await client.create(bmh, {
      apiVersion: 'anvil.dev/v1alpha1',
      kind: 'BareMetalHost',
      metadata: { name: 'zero-values', namespace: ns },
      spec: { bootMACAddress: '52:54:00:00:00:99', provisioning: { allowed: false, revision: 0 } },
    });
    expect((created.spec as { provisioning: { allowed: boolean } }).provisioning.allowed).toBe(false);
    const patched = await client.patch(bmh, { namespace: ns, name: 'zero-values' }, 'merge', {
      status: { errorMessage: '', errorCount: 0, conditions: [{ type: 'Ready', status: 'False', reason: 'Pending', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
    }, { subresource: 'status' });
    expect((patched.status as { errorMessage: string }).errorMessage).toBe('');
  });

  it('accepts every example in examples/ (kubectl apply)', () => {
    const { kubectl } = kubeTools();
    const env = { ...process.env, KUBECONFIG: cp.kubeconfigPath };
    for (const example of ['quickstart', 'ubuntu', 'proxmox', 'rollout']) {
      const out = execFileSync(kubectl, ['apply', '-n', ns, '-f', join(HERE, '..', '..', 'examples', example)], { env, encoding: 'utf8' });
      expect(out).toMatch(/created|configured|unchanged/);
    }
    // The fleet is a kustomization with its own namespace.
    execFileSync(kubectl, ['create', 'namespace', 'fleet'], { env, encoding: 'utf8' });
    const fleet = execFileSync(kubectl, ['apply', '-k', join(HERE, '..', '..', 'examples', 'fleet')], { env, encoding: 'utf8' });
    expect(fleet.match(/baremetalhost\.anvil\.dev\/\S+ created/g)?.length).toBe(9);
  });

  const validFiles = yamlFilesIn(join(fixtures, 'valid'));
  const invalidFiles = yamlFilesIn(join(fixtures, 'invalid'));

  it('has fixtures to check', () => {
    expect(validFiles.length).toBeGreaterThanOrEqual(3);
    expect(invalidFiles.length).toBeGreaterThanOrEqual(6);
  });

  it.each(validFiles.map((f) => [f.split('/').pop()!, f]))('accepts valid %s', async (_name, file) => {
    for (const obj of readYamlObjects(file)) {
      obj.metadata.namespace = ns;
      const created = await client.create(typeOf(obj), obj);
      expect(created.metadata.uid).toBeDefined();
    }
  });

  it.each(invalidFiles.map((f) => [f.split('/').pop()!, f]))('rejects invalid %s', async (_name, file) => {
    const text = readFileSync(file, 'utf8');
    const field = /^# field: (.+)$/m.exec(text)?.[1]?.trim();
    for (const obj of readYamlObjects(file)) {
      obj.metadata.namespace = ns;
      obj.metadata.name = `${obj.metadata.name}-x`;
      let error: unknown;
      try {
        await client.create(typeOf(obj), obj);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe(422);
      if (field) {
        // 1.20 drops list indexes from some paths; compare without them.
        const strip = (s: string) => s.replace(/\[\d+\]/g, '');
        expect(strip((error as ApiError).message)).toContain(strip(field).split('.').pop()!);
      }
    }
  });
});
