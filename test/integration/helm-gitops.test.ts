// The GitOps examples (examples/gitops/) against the real Argo CD and Flux CRDs on a real API server: every object
// passes a server-side dry-run apply and comes back with every field it was sent (kube-apiserver 1.20 prunes unknown
// fields of custom resources silently, so a misspelt field would otherwise pass), the chart values they carry pass
// the chart's values.schema.json, and the Git paths they point at exist in this repository.
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '@anvil/core/kube';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, readYamlObjects, yamlFilesIn, createCrdsAsIs, prunedPaths } from '../harness/kube.js';
import { kubeTools } from '../harness/tools.js';

jest.setTimeout(180_000);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GITOPS = join(ROOT, 'examples', 'gitops');
const CHART = join(ROOT, 'charts', 'anvil');
const REFERENCE_CRDS = join(ROOT, '..', 'shared', 'reference', 'crds');
const referenceMissing = !existsSync(REFERENCE_CRDS);
const MISSING_MESSAGE = `the ecosystem CRDs are not at ${REFERENCE_CRDS} (Argo CD, Flux; see ../shared/reference/crds/README.md); CI always has them`;
if (referenceMissing && !process.env.CI) console.warn(`skipping the GitOps example tests: ${MISSING_MESSAGE}`);
const describeWithCrds = referenceMissing && !process.env.CI ? describe.skip : describe;


interface Application extends KubeObject {
  spec: { source: { path: string; helm?: { valuesObject?: unknown } } };
}

describeWithCrds('GitOps examples', () => {
  let cp: ControlPlane;
  let tools: { kubectl: string; helm: string };
  let tmp: string;

  const run = (cmd: string, args: string[], input?: string): { status: number; stdout: string; stderr: string } => {
    const r = spawnSync(cmd, args, {
      input,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, KUBECONFIG: cp.kubeconfigPath, HELM_CACHE_HOME: join(tmp, 'helm-cache'), HELM_CONFIG_HOME: join(tmp, 'helm-config'), HELM_DATA_HOME: join(tmp, 'helm-data') },
    });
    if (r.error) throw r.error;
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  /** Server-side dry-run apply; fails when the server rejects an object or drops any field of it. */
  const dryRunApply = (objects: KubeObject[]): void => {
    const r = run(tools.kubectl, ['apply', '--server-side', '--dry-run=server', '-o', 'json', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
    if (r.status !== 0) throw new Error(`kubectl apply --server-side --dry-run=server failed:\n${r.stderr}`);
    const out = JSON.parse(r.stdout) as KubeObject & { items?: KubeObject[] };
    const returned = out.kind === 'List' ? out.items! : [out];
    expect(returned.length).toBe(objects.length);
    objects.forEach((sent, i) => {
      const lost = prunedPaths({ ...sent, metadata: undefined }, { ...returned[i], metadata: undefined }).filter((p) => p !== '.metadata');
      if (lost.length) throw new Error(`${sent.kind} ${sent.metadata.name}: the API server dropped ${lost.join(', ')} (not in the CRD's schema)`);
    });
  };

  const helmTemplateWith = (values: unknown): void => {
    const f = join(tmp, `values-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(f, stringify(values));
    const r = run(tools.helm, ['template', 'anvil', CHART, '-n', 'anvil-system', '-f', f]);
    if (r.status !== 0) throw new Error(`the example's chart values do not render:\n${r.stderr}`);
  };

  beforeAll(async () => {
    if (referenceMissing) throw new Error(MISSING_MESSAGE);
    tools = kubeTools();
    tmp = mkdtempSync(join(tmpdir(), 'anvil-gitops-'));
    cp = await startControlPlane();
    const client = clientFor(cp);
    await createCrdsAsIs(client, ['argo-cd', 'flux'].flatMap((d) => yamlFilesIn(join(REFERENCE_CRDS, d)).flatMap(readYamlObjects)));
    for (const ns of ['argocd', 'flux-system']) await ensureNamespace(client, ns);
  });

  afterAll(async () => {
    await cp?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe('Argo CD', () => {
    const apps = (): Application[] => yamlFilesIn(join(GITOPS, 'argocd')).flatMap(readYamlObjects) as Application[];

    it('has an Application for the chart and one for the hosts', () => {
      expect(apps().map((a) => [a.kind, a.spec.source.path]).sort()).toEqual([
        ['Application', 'charts/anvil'],
        ['Application', 'examples/ubuntu'],
      ]);
    });

    it('applies (server-side dry-run) against the real Argo CD CRDs with no field dropped', () => {
      dryRunApply(apps());
    });

    it('points at paths that exist and gives the chart values it accepts', () => {
      for (const app of apps()) {
        expect(existsSync(join(ROOT, app.spec.source.path))).toBe(true);
        if (app.spec.source.helm?.valuesObject) helmTemplateWith(app.spec.source.helm.valuesObject);
      }
    });
  });

  describe('Flux', () => {
    const top = (): KubeObject[] => yamlFilesIn(join(GITOPS, 'flux')).flatMap(readYamlObjects);
    const release = (): KubeObject[] => {
      const r = run(tools.kubectl, ['kustomize', join(GITOPS, 'flux', 'release')]);
      if (r.status !== 0) throw new Error(`kubectl kustomize examples/gitops/flux/release failed:\n${r.stderr}`);
      return parseAllDocuments(r.stdout).map((d) => d.toJS() as KubeObject);
    };

    it('has a GitRepository, a Kustomization for the release and one for the hosts, and a HelmRelease', () => {
      expect(top().map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['GitRepository/anvil', 'Kustomization/anvil', 'Kustomization/anvil-hosts']);
      expect(release().map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['HelmRelease/anvil', 'Namespace/anvil-system', 'Namespace/metal']);
    });

    it('applies (server-side dry-run) against the real Flux CRDs with no field dropped', () => {
      dryRunApply(top());
      dryRunApply(release().filter((o) => o.kind !== 'Namespace'));
    });

    it('points at paths that exist, hosts after the release, and gives the chart values it accepts', () => {
      const kustomizations = top().filter((o) => o.kind === 'Kustomization') as (KubeObject & { spec: { path: string; dependsOn?: { name: string }[] } })[];
      for (const k of kustomizations) expect([k.spec.path, existsSync(join(ROOT, k.spec.path))]).toEqual([k.spec.path, true]);
      expect(kustomizations.find((k) => k.metadata.name === 'anvil-hosts')?.spec.dependsOn).toEqual([{ name: 'anvil' }]);
      const hr = release().find((o) => o.kind === 'HelmRelease') as KubeObject & { spec: { chart: { spec: { chart: string } }; values: unknown } };
      expect(existsSync(join(ROOT, hr.spec.chart.spec.chart, 'Chart.yaml'))).toBe(true);
      helmTemplateWith(hr.spec.values);
    });
  });
});
