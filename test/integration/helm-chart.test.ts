// The rendered chart on a real kube-apiserver (1.20) with the ecosystem CRDs (cert-manager, Prometheus Operator) and
// anvil's CRDs installed: a server-side dry-run apply of both value sets (nothing the 1.20 server does not know is
// dropped, e.g. fsGroupChangePolicy), the PodDisruptionBudget version Helm picks from the server's discovery, then the
// chart's RBAC applied for real and checked with SubjectAccessReviews, the question `kubectl auth can-i --as` asks
// (everything each process does is allowed, a selection of what it must not do is denied), and finally the operator
// and the boot-server run under tokens of the chart's ServiceAccounts (from the TokenRequest API, as kubelets mount
// them from 1.21 on: no token Secret) with the chart's arguments and do their jobs (a host's boot config Secret is
// published, the boot-server serves it and records the boot request in the host's status).
//
// RBAC cannot restrict list/watch to a label selector: the boot-server may list every Secret in its scope even though
// it only asks for `anvil.dev/boot-config=true`. Confine it with watchNamespaces (Roles instead of ClusterRoles).
import { jest } from '@jest/globals';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { CoreResources, type KubeClient, type KubeObject, type ResourceType } from '@anvil/core/kube';
import { freePort, startControlPlane, writeKubeconfig, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, readYamlObjects, waitFor, yamlFilesIn, createCrdsAsIs, prunedPaths } from '../harness/kube.js';
import { kubeTools } from '../harness/tools.js';
import { embeddedTemplateEnv } from '../harness/pglite-template.js';

jest.setTimeout(300_000);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(ROOT, 'charts', 'anvil');
const EVERYTHING = join(CHART, 'ci', 'everything-values.yaml');
const REFERENCE_CRDS = join(ROOT, '..', 'shared', 'reference', 'crds');
const referenceMissing = !existsSync(REFERENCE_CRDS);
const MISSING_MESSAGE = `the ecosystem CRDs are not at ${REFERENCE_CRDS} (cert-manager, Prometheus Operator, Argo CD, Flux; see ../shared/reference/crds/README.md); CI always has them`;
if (referenceMissing && !process.env.CI) console.warn(`skipping the chart tests on the API server: ${MISSING_MESSAGE}`);
const execFileAsync = promisify(execFile);
const describeWithCrds = referenceMissing && !process.env.CI ? describe.skip : describe;

const RELEASE_NS = 'anvil-system';
const SCOPED_NS = 'anvil-scoped';
const HOSTS_NS = 'metal';
const SUBJECT_ACCESS_REVIEW: ResourceType = { group: 'authorization.k8s.io', version: 'v1', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', namespaced: false };


interface Rendered {
  yaml: string;
  objects: KubeObject[];
}

describeWithCrds('the Helm chart on a real API server', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let tools: { kubectl: string; helm: string };
  let tmp: string;
  const children: ChildProcess[] = [];

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

  const render = (release: string, namespace: string, valueFiles: string[] = []): Rendered => {
    const r = run(tools.helm, ['template', release, CHART, '-n', namespace, '--kube-version', '1.20.0', '--include-crds', ...valueFiles.flatMap((f) => ['-f', f])]);
    if (r.status !== 0) throw new Error(`helm template failed:\n${r.stderr}`);
    const objects = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => !!o);
    return { yaml: r.stdout, objects };
  };

  const kubectlApply = (yaml: string, dryRun: boolean): string => {
    const r = run(tools.kubectl, ['apply', '--server-side', '--field-manager=anvil-chart-test', ...(dryRun ? ['--dry-run=server'] : []), '-f', '-'], yaml);
    if (r.status !== 0) throw new Error(`kubectl apply${dryRun ? ' --dry-run=server' : ''} failed:\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
  };

  beforeAll(async () => {
    if (referenceMissing) throw new Error(MISSING_MESSAGE);
    tools = kubeTools();
    tmp = mkdtempSync(join(tmpdir(), 'anvil-helm-'));
    cp = await startControlPlane();
    client = clientFor(cp);
    const ecosystem = ['cert-manager', 'prometheus-operator'].flatMap((d) => yamlFilesIn(join(REFERENCE_CRDS, d)).flatMap(readYamlObjects));
    const ours = yamlFilesIn(join(CHART, 'crds')).flatMap(readYamlObjects);
    await installCrds(client, ours);
    await createCrdsAsIs(client, ecosystem);
    for (const ns of [RELEASE_NS, SCOPED_NS, HOSTS_NS, 'metal-a', 'metal-b', 'elsewhere']) await ensureNamespace(client, ns);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await cp?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe('server-side dry-run apply (kubectl apply --server-side --dry-run=server)', () => {
    it.each([
      ['default values', []],
      ['every option on (monitoring, cert-manager, hostNetwork, external database, namespace-scoped RBAC)', [EVERYTHING]],
    ])('accepts every object rendered with %s', (_name, files) => {
      const { yaml, objects } = render('anvil', RELEASE_NS, files);
      const r = run(tools.kubectl, ['apply', '--server-side', '--field-manager=anvil-chart-test', '--dry-run=server', '-o', 'json', '-f', '-'], yaml);
      if (r.status !== 0) throw new Error(`kubectl apply --server-side --dry-run=server failed:\n${r.stderr}`);
      const out = JSON.parse(r.stdout) as { kind: string; items: KubeObject[] };
      expect(out.items.length).toBe(objects.length);
      // 1.20 prunes unknown fields of custom resources (ServiceMonitor, Certificate, ...) silently: nothing may be lost.
      objects.forEach((sent, i) => {
        const lost = prunedPaths({ ...sent, metadata: undefined }, { ...out.items[i], metadata: undefined }).filter((p) => p !== '.metadata');
        if (lost.length) throw new Error(`${sent.kind} ${sent.metadata.name}: the API server dropped ${lost.join(', ')}`);
      });
      expect(objects.some((o) => o.kind === 'PodDisruptionBudget' && o.apiVersion === 'policy/v1beta1')).toBe(true);
      const bootServer = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'anvil-boot-server') as unknown as { spec: { template: { spec: { securityContext: unknown; initContainers: { name: string }[] } } } };
      expect(bootServer.spec.template.spec.securityContext).toMatchObject({ fsGroup: 10001, fsGroupChangePolicy: 'OnRootMismatch' });
      expect(bootServer.spec.template.spec.initContainers.map((c) => c.name)).toEqual(['fix-ownership']);
      if (files.length) {
        for (const kind of ['ServiceMonitor', 'PrometheusRule', 'Job', 'NetworkPolicy']) expect(objects.some((o) => o.kind === kind)).toBe(true);
      }
    });
  });

  it('takes the PodDisruptionBudget version from what the server serves (helm template --dry-run=server: 1.20 has policy/v1beta1 only)', () => {
    const r = run(tools.helm, ['template', 'anvil', CHART, '-n', RELEASE_NS, '--dry-run=server']);
    if (r.status !== 0) throw new Error(`helm template --dry-run=server failed:\n${r.stderr}`);
    const pdbs = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => o?.kind === 'PodDisruptionBudget');
    expect(pdbs.map((o) => o.apiVersion)).toEqual(['policy/v1beta1']);
  });

  describe('RBAC', () => {
    const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
    const applyRbac = (r: Rendered): void => {
      kubectlApply(r.objects.filter((o) => RBAC_KINDS.has(o.kind!)).map((o) => stringify(o)).join('---\n'), false);
    };

    beforeAll(() => {
      applyRbac(render('anvil', RELEASE_NS)); // cluster-wide
      applyRbac(render('scoped', SCOPED_NS, [EVERYTHING])); // watchNamespaces: metal-a, metal-b
    });

    /** `kubectl auth can-i` as a ServiceAccount; namespace undefined means across all namespaces. */
    const kubectlCan = async (saNs: string, sa: string, verb: string, resource: string, namespace: string | undefined, subresource?: string): Promise<boolean> => {
      const args = [
        'auth', 'can-i', verb, resource,
        `--as=system:serviceaccount:${saNs}:${sa}`,
        ...(namespace ? ['-n', namespace] : ['--all-namespaces']),
        ...(subresource ? [`--subresource=${subresource}`] : []),
      ];
      // Exit status 1 means "no"; the answer is on stdout either way.
      const { stdout, stderr } = await execFileAsync(tools.kubectl, args, { env: { ...process.env, KUBECONFIG: cp.kubeconfigPath } }).catch(
        (err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
      );
      const answer = stdout.trim();
      if (answer !== 'yes' && answer !== 'no') throw new Error(`kubectl auth can-i ${args.join(' ')} gave no answer: ${stdout}${stderr}`);
      return answer === 'yes';
    };

    /**
     * The same question as kubectlCan, asked with the SubjectAccessReview that `kubectl auth can-i --as` makes the
     * API server answer (the user and groups its impersonation gives a ServiceAccount), without a kubectl process
     * per check (hundreds of them were most of this file's time). A test below checks that both agree.
     */
    const can = async (saNs: string, sa: string, verb: string, resource: string, namespace: string | undefined, subresource?: string): Promise<boolean> => {
      const [typeAndGroup, name] = resource.split('/') as [string, string | undefined];
      const dot = typeAndGroup.indexOf('.');
      const review = await client.create<KubeObject<unknown, { allowed?: boolean }>>(SUBJECT_ACCESS_REVIEW, {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        metadata: {},
        spec: {
          user: `system:serviceaccount:${saNs}:${sa}`,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${saNs}`, 'system:authenticated'],
          resourceAttributes: {
            verb,
            resource: dot < 0 ? typeAndGroup : typeAndGroup.slice(0, dot),
            group: dot < 0 ? '' : typeAndGroup.slice(dot + 1),
            namespace: namespace ?? '',
            ...(name ? { name } : {}),
            ...(subresource ? { subresource } : {}),
          },
        },
      });
      return review.status?.allowed === true;
    };

    type Check = [verb: string, resource: string, subresource?: string];
    const ANVIL = ['baremetalhosts.anvil.dev', 'autoinstalltemplates.anvil.dev', 'proxmoxtemplates.anvil.dev'];
    const OPERATOR_NEEDS: Check[] = [
      ...ANVIL.flatMap((r): Check[] => [
        ...['get', 'list', 'watch', 'update', 'patch'].map((v): Check => [v, r]),
        ...['get', 'update', 'patch'].map((v): Check => [v, r, 'status']),
        ['update', r, 'finalizers'],
      ]),
      ...['get', 'list', 'watch', 'create', 'update', 'delete'].map((v): Check => [v, 'secrets']),
      ['create', 'events.events.k8s.io'],
      ['patch', 'events.events.k8s.io'],
      ['list', 'events.events.k8s.io'],
      ...['get', 'create', 'delete'].map((v): Check => [v, 'controllerrevisions.apps']),
    ];
    const OPERATOR_MUST_NOT: Check[] = [
      ['create', 'baremetalhosts.anvil.dev'],
      ['delete', 'baremetalhosts.anvil.dev'],
      ['delete', 'autoinstalltemplates.anvil.dev'],
      ['deletecollection', 'secrets'],
      ['get', 'pods'],
      ['create', 'pods'],
      ['list', 'configmaps'],
      ['create', 'leases.coordination.k8s.io/someone-elses'],
    ];
    const BOOT_SERVER_NEEDS: Check[] = [
      ['list', 'secrets'],
      ['watch', 'secrets'],
      ['get', 'baremetalhosts.anvil.dev', 'status'],
      ['patch', 'baremetalhosts.anvil.dev', 'status'],
    ];
    const BOOT_SERVER_MUST_NOT: Check[] = [
      ['get', 'secrets'],
      ['create', 'secrets'],
      ['update', 'secrets'],
      ['patch', 'secrets'],
      ['delete', 'secrets'],
      ['deletecollection', 'secrets'],
      ['get', 'baremetalhosts.anvil.dev'],
      ['list', 'baremetalhosts.anvil.dev'],
      ['update', 'baremetalhosts.anvil.dev'],
      ['patch', 'baremetalhosts.anvil.dev'],
      ['delete', 'baremetalhosts.anvil.dev'],
      ['update', 'baremetalhosts.anvil.dev', 'status'],
      ['patch', 'autoinstalltemplates.anvil.dev', 'status'],
      ['delete', 'autoinstalltemplates.anvil.dev'],
      ['create', 'events.events.k8s.io'],
      ['create', 'leases.coordination.k8s.io'],
    ];
    const describeCheck = ([verb, resource, sub]: Check): string => `${verb} ${resource}${sub ? `/${sub}` : ''}`;
    const expectAll = async (saNs: string, sa: string, checks: Check[], namespace: string | undefined, want: boolean): Promise<void> => {
      const answers = await Promise.all(checks.map(([v, r, s]) => can(saNs, sa, v, r, namespace, s)));
      const wrong = checks.filter((_c, i) => answers[i] !== want).map(describeCheck);
      if (wrong.length) throw new Error(`${sa} in ${namespace ?? 'all namespaces'} should${want ? '' : ' not'} be allowed to: ${wrong.join(', ')}`);
    };

    it('asks the API server what `kubectl auth can-i --as` asks it (both answers agree)', async () => {
      const samples: [saNs: string, sa: string, verb: string, resource: string, namespace: string | undefined, subresource?: string][] = [
        [RELEASE_NS, 'anvil-operator', 'patch', 'baremetalhosts.anvil.dev', HOSTS_NS, 'status'],
        [RELEASE_NS, 'anvil-operator', 'list', 'secrets', undefined],
        [RELEASE_NS, 'anvil-operator', 'update', 'leases.coordination.k8s.io/anvil-operator', RELEASE_NS],
        [RELEASE_NS, 'anvil-operator', 'update', 'leases.coordination.k8s.io/kube-scheduler', RELEASE_NS],
        [RELEASE_NS, 'anvil-operator', 'create', 'events.events.k8s.io', HOSTS_NS],
        [RELEASE_NS, 'anvil-boot-server', 'get', 'secrets', HOSTS_NS],
        [RELEASE_NS, 'anvil-boot-server', 'update', 'baremetalhosts.anvil.dev', HOSTS_NS, 'status'],
        [SCOPED_NS, 'scoped-anvil-operator', 'list', 'baremetalhosts.anvil.dev', 'metal-a'],
        [SCOPED_NS, 'scoped-anvil-operator', 'list', 'baremetalhosts.anvil.dev', 'elsewhere'],
        [SCOPED_NS, 'scoped-anvil-operator', 'create', 'certificates.cert-manager.io', SCOPED_NS],
      ];
      const byKubectl = await Promise.all(samples.map((q) => kubectlCan(...q)));
      const byReview = await Promise.all(samples.map((q) => can(...q)));
      expect(byReview).toEqual(byKubectl);
      expect(new Set(byKubectl)).toEqual(new Set([true, false]));
    });

    describe('cluster-wide (watchNamespaces empty)', () => {
      it('the operator may do everything it does, in any namespace', async () => {
        await expectAll(RELEASE_NS, 'anvil-operator', OPERATOR_NEEDS, undefined, true);
        await expectAll(RELEASE_NS, 'anvil-operator', OPERATOR_NEEDS, HOSTS_NS, true);
      });
      it('the operator holds its own Lease in the release namespace and no other', async () => {
        const sa = 'anvil-operator';
        expect(await can(RELEASE_NS, sa, 'create', 'leases.coordination.k8s.io', RELEASE_NS)).toBe(true);
        expect(await can(RELEASE_NS, sa, 'get', 'leases.coordination.k8s.io/anvil-operator', RELEASE_NS)).toBe(true);
        expect(await can(RELEASE_NS, sa, 'update', 'leases.coordination.k8s.io/anvil-operator', RELEASE_NS)).toBe(true);
        expect(await can(RELEASE_NS, sa, 'get', 'leases.coordination.k8s.io/kube-scheduler', RELEASE_NS)).toBe(false);
        expect(await can(RELEASE_NS, sa, 'update', 'leases.coordination.k8s.io/kube-scheduler', RELEASE_NS)).toBe(false);
        expect(await can(RELEASE_NS, sa, 'delete', 'leases.coordination.k8s.io/anvil-operator', RELEASE_NS)).toBe(false);
        expect(await can(RELEASE_NS, sa, 'create', 'leases.coordination.k8s.io', HOSTS_NS)).toBe(false);
      });
      it('the operator may not do what it does not do', async () => {
        await expectAll(RELEASE_NS, 'anvil-operator', OPERATOR_MUST_NOT, HOSTS_NS, false);
        expect(await can(RELEASE_NS, 'anvil-operator', 'list', 'nodes', undefined)).toBe(false);
        expect(await can(RELEASE_NS, 'anvil-operator', 'create', 'customresourcedefinitions.apiextensions.k8s.io', undefined)).toBe(false);
        expect(await can(RELEASE_NS, 'anvil-operator', 'create', 'clusterrolebindings.rbac.authorization.k8s.io', undefined)).toBe(false);
      });
      it('the boot-server may list/watch Secrets and patch host status, nothing else', async () => {
        await expectAll(RELEASE_NS, 'anvil-boot-server', BOOT_SERVER_NEEDS, HOSTS_NS, true);
        await expectAll(RELEASE_NS, 'anvil-boot-server', BOOT_SERVER_NEEDS, undefined, true);
        await expectAll(RELEASE_NS, 'anvil-boot-server', BOOT_SERVER_MUST_NOT, HOSTS_NS, false);
        expect(await can(RELEASE_NS, 'anvil-boot-server', 'delete', 'pods', HOSTS_NS)).toBe(false);
        expect(await can(RELEASE_NS, 'anvil-boot-server', 'list', 'configmaps', HOSTS_NS)).toBe(false);
      });
    });

    describe('namespace-scoped (watchNamespaces: metal-a, metal-b)', () => {
      it('both processes have what they need in the watched namespaces', async () => {
        for (const ns of ['metal-a', 'metal-b']) {
          await expectAll(SCOPED_NS, 'scoped-anvil-operator', OPERATOR_NEEDS, ns, true);
          await expectAll(SCOPED_NS, 'scoped-anvil-boot-server', BOOT_SERVER_NEEDS, ns, true);
          await expectAll(SCOPED_NS, 'scoped-anvil-boot-server', BOOT_SERVER_MUST_NOT, ns, false);
        }
        expect(await can(SCOPED_NS, 'scoped-anvil-operator', 'update', 'leases.coordination.k8s.io/anvil-operator', SCOPED_NS)).toBe(true);
      });
      it('with cert-manager on, the operator manages Certificates in its own namespace only', async () => {
        const sa = 'scoped-anvil-operator';
        for (const verb of ['get', 'list', 'create', 'patch']) expect(await can(SCOPED_NS, sa, verb, 'certificates.cert-manager.io', SCOPED_NS)).toBe(true);
        expect(await can(SCOPED_NS, sa, 'create', 'events.events.k8s.io', SCOPED_NS)).toBe(true);
        expect(await can(SCOPED_NS, sa, 'delete', 'certificates.cert-manager.io', SCOPED_NS)).toBe(false);
        expect(await can(SCOPED_NS, sa, 'create', 'certificates.cert-manager.io', 'metal-a')).toBe(false);
        expect(await can(SCOPED_NS, 'scoped-anvil-boot-server', 'get', 'certificates.cert-manager.io', SCOPED_NS)).toBe(false);
      });
      it('neither has anything outside them (not even in the release namespace), nor cluster-wide', async () => {
        for (const ns of ['elsewhere', SCOPED_NS, RELEASE_NS]) {
          // With cert-manager on, the operator records events about itself in its own namespace (and only there).
          const needs = ns === SCOPED_NS ? OPERATOR_NEEDS.filter(([, r]) => r !== 'events.events.k8s.io') : OPERATOR_NEEDS;
          await expectAll(SCOPED_NS, 'scoped-anvil-operator', needs, ns, false);
          await expectAll(SCOPED_NS, 'scoped-anvil-boot-server', BOOT_SERVER_NEEDS, ns, false);
        }
        await expectAll(SCOPED_NS, 'scoped-anvil-operator', OPERATOR_NEEDS, undefined, false);
        await expectAll(SCOPED_NS, 'scoped-anvil-boot-server', BOOT_SERVER_NEEDS, undefined, false);
      });
    });

    describe('is enough to run both processes with the chart arguments', () => {
      /** A kubeconfig with a token of the ServiceAccount from the TokenRequest API (no token Secret: gone since 1.24). */
      const tokenKubeconfig = (saNs: string, sa: string): string => {
        const r = run(tools.kubectl, ['create', 'token', sa, '-n', saNs, '--duration=1h']);
        if (r.status !== 0) throw new Error(`kubectl create token ${sa} failed:\n${r.stderr}`);
        const token = r.stdout.trim();
        const path = join(tmp, `${sa}.kubeconfig`);
        writeKubeconfig(path, cp.server, cp.caFile, token, sa);
        return path;
      };

      /** The rendered container arguments with some flags replaced (ports and directories of this machine). */
      const chartArgs = (r: Rendered, deployment: string, overrides: Record<string, string>): string[] => {
        const d = r.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === deployment) as unknown as { spec: { template: { spec: { containers: { command: string[]; args: string[] }[] } } } };
        const c = d.spec.template.spec.containers[0]!;
        expect(c.command[1]).toBe(`${deployment.endsWith('operator') ? 'operator' : 'boot-server'}/dist/main.js`);
        return [...c.args.filter((a) => !(a.split('=')[0]! in overrides)), ...Object.entries(overrides).map(([k, v]) => `${k}=${v}`)];
      };

      const start = (name: string, entry: string, args: string[]): { child: ChildProcess; logs: () => string } => {
        const log = join(tmp, `${name}.log`);
        const fd = openSync(log, 'a');
        const child = spawn(process.execPath, ['--conditions=anvil-source', '--import', 'tsx', join(ROOT, entry), ...args], {
          stdio: ['ignore', fd, fd],
          env: { ...process.env, NODE_OPTIONS: '', KUBECONFIG: '', POD_NAMESPACE: RELEASE_NS, POD_NAME: `${name}-0`, ...embeddedTemplateEnv() },
        });
        closeSync(fd);
        children.push(child);
        return { child, logs: () => readFileSync(log, 'utf8') };
      };

      it('the operator leads, publishes a boot config Secret and the boot-server serves it and records the boot in status', async () => {
        const rendered = render('anvil', RELEASE_NS);
        const metricsPort = await freePort();
        const operator = start('operator', 'operator/src/main.ts', [
          ...chartArgs(rendered, 'anvil-operator', { '--metrics-port': String(metricsPort), '--metrics-host': '127.0.0.1', '--kubeconfig': tokenKubeconfig(RELEASE_NS, 'anvil-operator') }),
        ]);
        const httpPort = await freePort();
        const dataDir = mkdtempSync(join(tmp, 'boot-'));
        const bootServer = start('boot-server', 'boot-server/src/main.ts', [
          ...chartArgs(rendered, 'anvil-boot-server', {
            '--kubeconfig': tokenKubeconfig(RELEASE_NS, 'anvil-boot-server'),
            '--http-host': '127.0.0.1',
            '--http-port': String(httpPort),
            '--public-url': `http://127.0.0.1:${httpPort}`,
            '--tftp-port': '0',
            '--asset-dir': join(dataDir, 'assets'),
            '--spool-dir': join(dataDir, 'spool'),
            '--data-dir': join(dataDir, 'history'),
          }),
        ]);
        const diagnostics = (): string => `\n--- operator\n${operator.logs().slice(-4000)}\n--- boot-server\n${bootServer.logs().slice(-4000)}`;
        try {
          await waitFor('operator ready', async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).ok, 60_000);
          await waitFor('boot-server ready', async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok, 60_000);

          const leaseType = CoreResources.lease;
          await waitFor('the operator holds the Lease', async () => (await client.get<KubeObject & { spec?: { holderIdentity?: string } }>(leaseType, { namespace: RELEASE_NS, name: 'anvil-operator' }))?.spec?.holderIdentity === 'operator-0');

          const quickstart = join(ROOT, 'examples', 'quickstart');
          const r = run(tools.kubectl, ['apply', '-n', HOSTS_NS, '-f', quickstart]);
          if (r.status !== 0) throw new Error(r.stderr);
          await waitFor('node-01-bootconfig Secret', async () => !!(await client.get(CoreResources.secret, { namespace: HOSTS_NS, name: 'node-01-bootconfig' })), 60_000);

          const script = await waitFor('the boot-server serves node-01 its install script', async () => {
            const res = await fetch(`http://127.0.0.1:${httpPort}/ipxe/52:54:00:12:34:01`);
            const text = await res.text();
            return res.ok && text.includes('/nocloud/') ? text : undefined;
          });
          expect(script).toMatch(/^#!ipxe/);

          const hostType: ResourceType = { group: 'anvil.dev', version: 'v1alpha1', kind: 'BareMetalHost', plural: 'baremetalhosts', namespaced: true };
          await waitFor('status.lastBootRequest written by the boot-server', async () => {
            const host = await client.get<KubeObject & { status?: { lastBootRequest?: { served?: string } } }>(hostType, { namespace: HOSTS_NS, name: 'node-01' });
            return host?.status?.lastBootRequest?.served === 'InstallScript';
          }, 60_000);

          for (const [name, p] of [['operator', operator], ['boot-server', bootServer]] as const) {
            expect([name, p.child.exitCode]).toEqual([name, null]);
            expect([name, /forbidden/i.test(p.logs())]).toEqual([name, false]);
          }
        } catch (err) {
          throw new Error(`${(err as Error).message}${diagnostics()}`);
        }
      });
    });
  });
});
