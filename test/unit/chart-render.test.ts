// The Helm chart renders with default values and with every option on, passes `helm lint`, matches the processes it
// runs (entry points in dist/, flags each process accepts), is secure by default (the same non-root user in every
// boot-server mode, CAP_NET_BIND_SERVICE only where a port below 1024 is bound, a CAP_CHOWN-only init container for
// volume ownership), picks the PodDisruptionBudget version the cluster serves, and values.schema.json (plus the chart's
// cross-field checks) rejects bad values with a message that names the problem.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { helpText as bootServerHelp } from '@anvil/boot-server/src/config.js';
import { helpText as operatorHelp } from '@anvil/operator/src/config.js';
import { kubeTools } from '../harness/tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(ROOT, 'charts', 'anvil');
const EVERYTHING = join(CHART, 'ci', 'everything-values.yaml');
const NS = 'anvil-system';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  [k: string]: unknown;
}
interface Container {
  name: string;
  image?: string;
  command: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name: string; containerPort: number; protocol: string }[];
  securityContext: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
}
interface PodSpec {
  hostNetwork?: boolean;
  securityContext?: { fsGroup?: number; fsGroupChangePolicy?: string; runAsUser?: number };
  initContainers?: (Container & { volumeMounts?: { name: string; mountPath: string }[] })[];
  containers: Container[];
}

let tmp: string;
let helm: string;

beforeAll(() => {
  helm = kubeTools().helm;
  tmp = mkdtempSync(join(tmpdir(), 'anvil-chart-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let fileCount = 0;
function valuesFile(values: unknown): string {
  const f = join(tmp, `values-${fileCount++}.yaml`);
  writeFileSync(f, stringify(values));
  return f;
}

function runHelm(args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync(helm, args, { encoding: 'utf8', env: { ...process.env, HELM_CACHE_HOME: join(tmp, 'cache'), HELM_CONFIG_HOME: join(tmp, 'config'), HELM_DATA_HOME: join(tmp, 'data') } });
  if (r.error) throw r.error;
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr };
}

/** Renders the chart; `values` are merged over the defaults (files first, then the object). */
function render(values: unknown = {}, opts: { files?: string[]; kubeVersion?: string; apiVersions?: string[] } = {}): Obj[] {
  const args = ['template', 'anvil', CHART, '-n', NS, ...(opts.kubeVersion ? ['--kube-version', opts.kubeVersion] : [])];
  for (const v of opts.apiVersions ?? []) args.push('--api-versions', v);
  for (const f of opts.files ?? []) args.push('-f', f);
  args.push('-f', valuesFile(values));
  const r = runHelm(args);
  if (!r.ok) throw new Error(`helm template failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => !!o);
}

/** The error helm gives for these values (fails the test when it renders). */
function renderError(values: unknown): string {
  const r = runHelm(['template', 'anvil', CHART, '-n', NS, '-f', valuesFile(values)]);
  if (r.ok) throw new Error(`expected helm template to reject ${JSON.stringify(values)}`);
  return r.stderr;
}

const find = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in: ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};
const podSpec = (o: Obj): PodSpec => (o.spec as { template: { spec: PodSpec } }).template.spec;
const container = (objs: Obj[], deployment: string): Container => podSpec(find(objs, 'Deployment', deployment)).containers[0]!;
const kinds = (objs: Obj[]): string[] => objs.map((o) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`).sort();
/** The node entry point of a container command, behind setpriv where the boot-server binds a port below 1024. */
const nodeCommand = (cmd: string[]): string[] => (cmd[0] === 'setpriv' ? cmd.slice(cmd.indexOf('--') + 1) : cmd);
const flagsOf = (c: Container): string[] => (c.args ?? []).map((a) => a.split('=')[0]!);
const argValue = (c: Container, flag: string): string | undefined => c.args?.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);

describe('helm lint', () => {
  it.each([
    ['default values', []],
    ['every option on', ['-f', EVERYTHING]],
  ])('passes with %s (--strict)', (_name, extra) => {
    const r = runHelm(['lint', '--strict', CHART, ...extra]);
    if (!r.ok) throw new Error(`helm lint failed:\n${r.stdout}\n${r.stderr}`);
    expect(r.stdout).toContain('0 chart(s) failed');
  });
});

describe('helm template with default values', () => {
  let objs: Obj[];
  beforeAll(() => {
    objs = render();
  });

  it('renders exactly the default set of objects', () => {
    expect(kinds(objs)).toEqual(
      [
        'ClusterRole/anvil-boot-server',
        'ClusterRole/anvil-operator',
        'ClusterRoleBinding/anvil-boot-server',
        'ClusterRoleBinding/anvil-operator',
        `Deployment/${NS}/anvil-boot-server`,
        `Deployment/${NS}/anvil-operator`,
        `NetworkPolicy/${NS}/anvil-boot-server`,
        `NetworkPolicy/${NS}/anvil-operator`,
        `PersistentVolumeClaim/${NS}/anvil-boot-server-data`,
        `PodDisruptionBudget/${NS}/anvil-operator`,
        `Role/${NS}/anvil-operator-leader-election`,
        `RoleBinding/${NS}/anvil-operator-leader-election`,
        `Service/${NS}/anvil-boot-server`,
        `Service/${NS}/anvil-operator`,
        `ServiceAccount/${NS}/anvil-boot-server`,
        `ServiceAccount/${NS}/anvil-operator`,
      ].sort(),
    );
  });

  it('runs the operator with 2 replicas, leader election and probes on its metrics port', () => {
    const d = find(objs, 'Deployment', 'anvil-operator');
    expect((d.spec as { replicas: number }).replicas).toBe(2);
    const c = container(objs, 'anvil-operator');
    expect(argValue(c, '--leader-elect')).toBe('true');
    expect(argValue(c, '--leader-election-namespace')).toBe(NS);
    const probes = c as unknown as Record<string, { httpGet: { path: string; port: string } }>;
    expect(probes.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(probes.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(argValue(c, '--metrics-port')).toBe('8080');
    expect((find(objs, 'PodDisruptionBudget', 'anvil-operator').spec as { minAvailable: number }).minAvailable).toBe(1);
  });

  it('gives both processes a startup probe, so a slow first start is not killed by the liveness probe', () => {
    for (const name of ['anvil-operator', 'anvil-boot-server']) {
      const c = container(objs, name) as unknown as Record<string, { httpGet: { path: string }; periodSeconds: number; failureThreshold: number } | undefined>;
      expect(c.startupProbe?.httpGet.path).toBe('/healthz');
      expect(c.startupProbe!.periodSeconds * c.startupProbe!.failureThreshold).toBeGreaterThanOrEqual(120);
    }
  });

  it('uses the image tag of the chart appVersion', () => {
    expect((podSpec(find(objs, 'Deployment', 'anvil-operator')).containers[0] as unknown as { image: string }).image).toBe('anvil:0.1.0');
  });

  it('runs the boot-server with 1 replica, unprivileged TFTP behind Service port 69, a PVC, and no database Secret', () => {
    const d = find(objs, 'Deployment', 'anvil-boot-server');
    expect((d.spec as { replicas: number }).replicas).toBe(1);
    const c = container(objs, 'anvil-boot-server');
    expect(argValue(c, '--tftp-port')).toBe('6969');
    expect(argValue(c, '--public-url')).toBe(`http://anvil-boot-server.${NS}.svc:8080`);
    const svc = find(objs, 'Service', 'anvil-boot-server').spec as { ports: { name: string; port: number; protocol: string; targetPort: string }[] };
    expect(svc.ports).toContainEqual({ name: 'tftp', port: 69, targetPort: 'tftp', protocol: 'UDP' });
    expect(c.env?.map((e) => e.name)).not.toContain('DATABASE_URL');
    const volumes = (podSpec(d) as unknown as { volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] }).volumes;
    expect(volumes.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe('anvil-boot-server-data');
  });
});

describe('the chart matches the processes it runs', () => {
  const objsDefault = (): Obj[] => render();
  const objsAll = (): Obj[] => render({}, { files: [EVERYTHING] });

  it("entry points are the dist/ files tsc builds from existing sources (a workspace package's dist/ from its src/)", () => {
    for (const objs of [objsDefault(), objsAll()]) {
      const commands = objs
        .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
        .map((o) => nodeCommand(podSpec(o).containers[0]!.command));
      for (const cmd of commands) {
        expect(cmd[0]).toBe('node');
        const source = cmd[1]!.replace(/^([a-z-]+)\/dist\//, '$1/src/').replace(/\.js$/, '.ts');
        expect(cmd[1]).toMatch(/^(shared|operator|boot-server)\/dist\/.*\.js$/);
        if (!existsSync(join(ROOT, source))) throw new Error(`${cmd.join(' ')}: no source ${source} in the repository`);
      }
    }
    const all = objsAll();
    expect(container(all, 'anvil-operator').command).toEqual(['node', 'operator/dist/main.js']);
    // every option on includes hostNetwork with TFTP on 69: the boot-server starts through setpriv
    expect(container(all, 'anvil-boot-server').command).toEqual(['setpriv', '--inh-caps=+net_bind_service', '--ambient-caps=+net_bind_service', '--', 'node', 'boot-server/dist/main.js']);
    expect(container(objsDefault(), 'anvil-boot-server').command).toEqual(['node', 'boot-server/dist/main.js']);
    expect(podSpec(find(all, 'Job', 'anvil-migrate')).containers[0]!.command).toEqual(['node', 'shared/dist/db/migrate-cli.js']);
  });

  it('passes only flags each process accepts (from its --help)', () => {
    for (const objs of [objsDefault(), objsAll()]) {
      for (const [deployment, help] of [['anvil-operator', operatorHelp()], ['anvil-boot-server', bootServerHelp()]] as const) {
        for (const flag of flagsOf(container(objs, deployment))) {
          if (!new RegExp(`^\\s+${flag}\\b`, 'm').test(help)) throw new Error(`${deployment} is given ${flag}, which its --help does not list`);
        }
      }
    }
  });
});

describe('security', () => {
  const BOOT_SERVER = 'Deployment/anvil-boot-server';
  const everyContainer = (objs: Obj[]): [string, Container][] =>
    objs
      .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
      .flatMap((o) => [...(podSpec(o).initContainers ?? []), ...podSpec(o).containers].map((c) => [`${o.kind}/${o.metadata.name}/${c.name}`, c] as [string, Container]));
  const isRootInit = (where: string): boolean => where === `${BOOT_SERVER}/fix-ownership`;
  const isPrivilegedBootServer = (where: string, c: Container): boolean => where === `${BOOT_SERVER}/boot-server` && c.command[0] === 'setpriv';

  it.each([
    ['default values', {}, []],
    ['every option on', {}, [EVERYTHING]],
  ])('with %s every container has a read-only root, drops ALL capabilities and runs as user 10001 (but the ownership init)', (_n, values, files) => {
    const containers = everyContainer(render(values, { files }));
    expect(containers.map(([where]) => where)).toContain(`${BOOT_SERVER}/fix-ownership`);
    for (const [where, c] of containers) {
      const sc = c.securityContext;
      expect([where, sc.readOnlyRootFilesystem]).toEqual([where, true]);
      expect([where, sc.capabilities?.drop]).toEqual([where, ['ALL']]);
      // Privilege escalation only where setpriv's file capability must take effect (a port below 1024).
      expect([where, sc.allowPrivilegeEscalation]).toEqual([where, isPrivilegedBootServer(where, c)]);
      if (isRootInit(where)) continue;
      expect([where, sc.runAsNonRoot, sc.runAsUser, sc.runAsGroup]).toEqual([where, true, 10001, 10001]);
      if (!isPrivilegedBootServer(where, c)) expect([where, sc.capabilities?.add]).toEqual([where, undefined]);
    }
  });

  it.each([
    ['default (pod network, TFTP on 6969)', {}, false],
    ['pod network with TFTP on 69', { bootServer: { tftp: { enabled: true, port: 69 } } }, true],
    ['hostNetwork (TFTP binds 69)', { bootServer: { hostNetwork: true } }, true],
    ['hostNetwork with TFTP on 6969', { bootServer: { hostNetwork: true, tftp: { enabled: true, port: 6969 } } }, false],
    ['hostNetwork with TFTP off', { bootServer: { hostNetwork: true, tftp: { enabled: false } } }, false],
    ['HTTP on port 80', { bootServer: { http: { port: 80 } } }, true],
    ['proxyDHCP (UDP 67) with TFTP on 6969', { bootServer: { hostNetwork: true, tftp: { enabled: true, port: 6969 }, proxyDhcp: { enabled: true } } }, true],
  ])('boot-server, %s: user 10001, and CAP_NET_BIND_SERVICE through setpriv only where a port is below 1024', (_n, values, privileged) => {
    const objs = render(values);
    const c = container(objs, 'anvil-boot-server');
    // The same user whatever the mode, so a volume written in one mode is usable in another.
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, readOnlyRootFilesystem: true });
    if (privileged) {
      // Added capabilities never reach a non-root process's effective set; setpriv (file capability
      // cap_net_bind_service=p in the image) raises it into the ambient set, which needs no_new_privs off.
      expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
      expect(c.securityContext.allowPrivilegeEscalation).toBe(true);
      expect(c.command).toEqual(['setpriv', '--inh-caps=+net_bind_service', '--ambient-caps=+net_bind_service', '--', 'node', 'boot-server/dist/main.js']);
    } else {
      expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'] });
      expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
      expect(c.command).toEqual(['node', 'boot-server/dist/main.js']);
    }
    // The operator never gets a capability or root.
    expect(container(objs, 'anvil-operator').securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container(objs, 'anvil-operator').securityContext.capabilities?.add).toBeUndefined();
  });

  it('gives the volume to user 10001 before the boot-server starts: an init container, root with CAP_CHOWN only, running the chart\'s script', () => {
    const spec = podSpec(find(render(), 'Deployment', 'anvil-boot-server'));
    expect(spec.securityContext).toMatchObject({ fsGroup: 10001, fsGroupChangePolicy: 'OnRootMismatch' });
    const init = spec.initContainers ?? [];
    expect(init.map((c) => c.name)).toEqual(['fix-ownership']);
    const c = init[0]!;
    expect(c.image).toBe('anvil:0.1.0');
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: false,
      runAsUser: 0,
      runAsGroup: 0,
      capabilities: { drop: ['ALL'], add: ['CHOWN'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.command).toEqual(['node', '-e', readFileSync(join(CHART, 'files', 'fix-ownership.js'), 'utf8'), '/var/lib/anvil', '10001', '10001']);
    expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/var/lib/anvil' }]);
  });

  it.each([
    ['persistence off (an emptyDir, which fsGroup covers)', { bootServer: { persistence: { enabled: false } } }],
    ['fixOwnership off (Pod Security "restricted")', { bootServer: { persistence: { fixOwnership: { enabled: false } } } }],
  ])('has no root init container with %s', (_n, values) => {
    const spec = podSpec(find(render(values), 'Deployment', 'anvil-boot-server'));
    expect(spec.initContainers).toBeUndefined();
    expect(spec.securityContext).toMatchObject({ fsGroup: 10001 });
  });

  it('relies on no ServiceAccount token Secret: the pods mount their token (projected from 1.21), the chart makes none', () => {
    for (const objs of [render(), render({}, { files: [EVERYTHING] })]) {
      expect(objs.filter((o) => o.kind === 'Secret' && (o as { type?: string }).type === 'kubernetes.io/service-account-token')).toEqual([]);
      for (const d of objs.filter((o) => o.kind === 'Deployment')) {
        expect([d.metadata.name, (podSpec(d) as { automountServiceAccountToken?: boolean }).automountServiceAccountToken]).toEqual([d.metadata.name, true]);
        const secretVolumes = ((podSpec(d) as { volumes?: { secret?: { secretName: string } }[] }).volumes ?? []).flatMap((v) => (v.secret ? [v.secret.secretName] : []));
        expect(secretVolumes.filter((n) => !n.endsWith('-tls'))).toEqual([]);
      }
    }
  });

  it('with proxyDHCP the boot-server answers PXE on UDP 67 and 4011 of the node, for known machines by default', () => {
    const objs = render({ bootServer: { hostNetwork: true, publicURL: 'http://10.0.0.2:8080', proxyDhcp: { enabled: true, address: '10.0.0.2' } } });
    const c = container(objs, 'anvil-boot-server');
    expect(c.args).toEqual(expect.arrayContaining(['--proxy-dhcp=true', '--proxy-dhcp-machines=known', '--proxy-dhcp-address=10.0.0.2']));
    expect(c.ports).toEqual(expect.arrayContaining([{ name: 'dhcp', containerPort: 67, protocol: 'UDP' }, { name: 'pxe', containerPort: 4011, protocol: 'UDP' }]));
    expect(container(render({ bootServer: { hostNetwork: true } }), 'anvil-boot-server').args?.filter((a) => a.startsWith('--proxy-dhcp'))).toEqual([]);
  });

  it('with discovery=create the boot-server makes Discovered hosts (RBAC: get/list/create hosts) and proxyDHCP answers every machine', () => {
    const rulesOf = (objs: Obj[], kind: string, name: string) => (find(objs, kind, name) as Obj & { rules: { resources: string[]; verbs: string[] }[] }).rules;
    const hostRules = (objs: Obj[], kind: string, name: string) => rulesOf(objs, kind, name).filter((r) => r.resources.includes('baremetalhosts'));
    expect(hostRules(render(), 'ClusterRole', 'anvil-boot-server')).toEqual([]);
    expect(argValue(container(render(), 'anvil-boot-server'), '--discovery')).toBe('record');

    const objs = render({ bootServer: { hostNetwork: true, publicURL: 'http://10.0.0.2:8080', proxyDhcp: { enabled: true }, discovery: { mode: 'create' } } });
    const c = container(objs, 'anvil-boot-server');
    expect(c.args).toEqual(expect.arrayContaining(['--discovery=create', `--discovery-namespace=${NS}`, '--discovery-creates-per-minute=30', '--proxy-dhcp-machines=all']));
    expect(hostRules(objs, 'ClusterRole', 'anvil-boot-server')).toEqual([{ apiGroups: ['anvil.dev'], resources: ['baremetalhosts'], verbs: ['get', 'list', 'create'] }]);

    // namespace-scoped: in the first watched namespace unless told, with a Role in each
    const scoped = render({ watchNamespaces: ['metal-a', 'metal-b'], bootServer: { discovery: { mode: 'create' } } });
    expect(argValue(container(scoped, 'anvil-boot-server'), '--discovery-namespace')).toBe('metal-a');
    for (const ns of ['metal-a', 'metal-b']) {
      const role = scoped.find((o) => o.kind === 'Role' && o.metadata.name === 'anvil-boot-server' && o.metadata.namespace === ns) as Obj & { rules: { resources: string[]; verbs: string[] }[] };
      expect(role.rules.filter((r) => r.resources.includes('baremetalhosts'))).toEqual([{ apiGroups: ['anvil.dev'], resources: ['baremetalhosts'], verbs: ['get', 'list', 'create'] }]);
    }
  });

  it('with a managed pool the boot-server is the network\'s DHCP server too; never without one', () => {
    const managed = { pool: '10.0.0.100-10.0.0.199', router: '10.0.0.1', dns: ['10.0.0.1', '9.9.9.9'] };
    const c = container(render({ bootServer: { hostNetwork: true, publicURL: 'http://10.0.0.2:8080', proxyDhcp: { enabled: true, managed } } }), 'anvil-boot-server');
    expect(c.args).toEqual(expect.arrayContaining(['--managed-dhcp-pool=10.0.0.100-10.0.0.199', '--managed-dhcp-netmask=255.255.255.0', '--managed-dhcp-lease-seconds=3600', '--managed-dhcp-router=10.0.0.1', '--managed-dhcp-dns=10.0.0.1,9.9.9.9']));
    const plain = container(render({ bootServer: { hostNetwork: true, publicURL: 'http://10.0.0.2:8080', proxyDhcp: { enabled: true } } }), 'anvil-boot-server');
    expect(plain.args?.filter((a) => a.startsWith('--managed-dhcp'))).toEqual([]);
  });

  it('with hostNetwork the boot-server binds TFTP port 69 on the host and uses the cluster DNS', () => {
    const objs = render({ bootServer: { hostNetwork: true, publicURL: 'http://10.0.0.2:8080' } });
    const spec = podSpec(find(objs, 'Deployment', 'anvil-boot-server')) as PodSpec & { dnsPolicy?: string };
    expect(spec.hostNetwork).toBe(true);
    expect(spec.dnsPolicy).toBe('ClusterFirstWithHostNet');
    const c = container(objs, 'anvil-boot-server');
    expect(argValue(c, '--tftp-port')).toBe('69');
    expect(argValue(c, '--public-url')).toBe('http://10.0.0.2:8080');
    expect(argValue(container(objs, 'anvil-operator'), '--boot-server-url')).toBe('http://10.0.0.2:8080');
  });
});

describe('helm template with every option on', () => {
  let objs: Obj[];
  beforeAll(() => {
    objs = render({}, { files: [EVERYTHING], kubeVersion: '1.20.0' });
  });

  it('renders monitoring, cert-manager, the migration hook and namespace-scoped RBAC', () => {
    const k = kinds(objs);
    for (const want of [
      `Role/${NS}/anvil-operator-certificates`,
      `ConfigMap/${NS}/anvil-dashboard`,
      `ServiceMonitor/${NS}/anvil-operator`,
      `ServiceMonitor/${NS}/anvil-boot-server`,
      `PrometheusRule/${NS}/anvil`,
      `Job/${NS}/anvil-migrate`,
      'Role/metal-a/anvil-operator',
      'Role/metal-b/anvil-operator',
      'Role/metal-a/anvil-boot-server',
      'Role/metal-b/anvil-boot-server',
      'RoleBinding/metal-a/anvil-operator',
      'RoleBinding/metal-b/anvil-boot-server',
      `Role/${NS}/anvil-operator-leader-election`,
    ]) {
      expect(k).toContain(want);
    }
    // Namespace-scoped RBAC: the only cluster-wide grant is the dashboard's, and it can only ask the API server who a
    // token is and what it may do (TokenReview, SubjectAccessReview are cluster-scoped), never read anything.
    expect(k.filter((x) => x.startsWith('ClusterRole'))).toEqual(['ClusterRole/anvil-operator-dashboard', 'ClusterRoleBinding/anvil-operator-dashboard']);
    expect(objs.find((o) => o.kind === 'ClusterRole')?.rules).toEqual([
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ]);
    // existingSecret: the chart creates no Secret of its own.
    expect(k.filter((x) => x.startsWith('Secret/'))).toEqual([]);
  });

  it('ships the Grafana dashboard for the sidecar, unchanged', () => {
    const cm = find(objs, 'ConfigMap', 'anvil-dashboard') as Obj & { data: Record<string, string> };
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    expect(cm.metadata.annotations?.grafana_folder).toBe('Provisioning');
    expect(JSON.parse(cm.data['anvil.json']!)).toEqual(JSON.parse(readFileSync(join(CHART, 'dashboards', 'anvil.json'), 'utf8')));
  });

  it('watches only the listed namespaces in both processes', () => {
    expect(argValue(container(objs, 'anvil-operator'), '--namespace')).toBe('metal-a,metal-b');
    expect(argValue(container(objs, 'anvil-boot-server'), '--namespace')).toBe('metal-a,metal-b');
  });

  it('gives DATABASE_URL from the existing Secret to the operator, the boot-server and the pre-install/pre-upgrade migration', () => {
    const ref = { secretKeyRef: { name: 'anvil-cockroachdb', key: 'uri' } };
    expect(container(objs, 'anvil-operator').env).toContainEqual({ name: 'DATABASE_URL', valueFrom: ref });
    expect(container(objs, 'anvil-boot-server').env).toContainEqual({ name: 'DATABASE_URL', valueFrom: ref });
    const job = find(objs, 'Job', 'anvil-migrate');
    expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(podSpec(job).containers[0]!.env).toContainEqual({ name: 'DATABASE_URL', valueFrom: ref });
  });

  it('uses policy/v1beta1 for the PodDisruptionBudget on Kubernetes 1.20 and policy/v1 from 1.21', () => {
    expect(find(objs, 'PodDisruptionBudget', 'anvil-operator').apiVersion).toBe('policy/v1beta1');
    expect(find(render({}, { kubeVersion: '1.21.0' }), 'PodDisruptionBudget', 'anvil-operator').apiVersion).toBe('policy/v1');
    expect(find(render({}, { kubeVersion: '1.33.0' }), 'PodDisruptionBudget', 'anvil-operator').apiVersion).toBe('policy/v1');
    // helm template without a cluster or a version: current Kubernetes, where policy/v1beta1 is gone.
    expect(find(render(), 'PodDisruptionBudget', 'anvil-operator').apiVersion).toBe('policy/v1');
  });

  it.each([
    ['policy/v1 served (1.21+, as Argo CD passes --api-versions)', ['policy/v1/PodDisruptionBudget', 'policy/v1beta1/PodDisruptionBudget'], '1.20.0', 'policy/v1'],
    ['only policy/v1 served', ['policy/v1/PodDisruptionBudget'], '1.20.0', 'policy/v1'],
    ['only policy/v1beta1 served (what a 1.20 cluster reports)', ['policy/v1beta1/PodDisruptionBudget'], '1.33.0', 'policy/v1beta1'],
  ])('picks the PodDisruptionBudget version the cluster serves before its version number: %s', (_n, apiVersions, kubeVersion, want) => {
    expect(find(render({}, { apiVersions, kubeVersion }), 'PodDisruptionBudget', 'anvil-operator').apiVersion).toBe(want);
  });

  it('limits the boot-server to the provisioning CIDRs and the operator to the allowed namespaces', () => {
    const boot = find(objs, 'NetworkPolicy', 'anvil-boot-server').spec as { ingress: { from?: unknown[]; ports: { port: number; protocol: string }[] }[] };
    expect(boot.ingress[0]!.from).toEqual([{ ipBlock: { cidr: '10.20.0.0/24' } }, { ipBlock: { cidr: '10.21.0.0/24' } }]);
    expect(boot.ingress[0]!.ports).toEqual([
      { port: 8080, protocol: 'TCP' },
      { port: 8443, protocol: 'TCP' },
      { port: 69, protocol: 'UDP' },
    ]);
    const op = find(objs, 'NetworkPolicy', 'anvil-operator').spec as { ingress: { from: unknown[] }[] };
    expect(op.ingress[0]!.from).toEqual([
      { podSelector: {} },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
      { namespaceSelector: { matchLabels: { 'anvil.dev/api-access': 'true' } } },
    ]);
  });

  it('has the operator request certificates from the configured issuer for the provisioning names and addresses', () => {
    const op = container(objs, 'anvil-operator');
    expect(argValue(op, '--certificate-issuer')).toBe('ClusterIssuer/provisioning-ca');
    expect(argValue(op, '--certificate-issuer-group')).toBe('cert-manager.io');
    expect(argValue(op, '--certificate-namespace')).toBe(NS);
    const certs = (op.args ?? []).filter((a) => a.startsWith('--certificate=')).map((a) => a.slice('--certificate='.length));
    const boot = certs.find((c) => c.startsWith('anvil-boot-server='))!.split('=')[1]!.split(',');
    expect(boot).toContain('boot.provisioning.example.internal');
    expect(boot).toContain(`anvil-boot-server.${NS}.svc`);
    expect(boot).toContain('10.20.0.2');
    expect(certs.find((c) => c.startsWith('anvil-operator='))!.split('=')[1]!.split(',')).toEqual(expect.arrayContaining(['anvil-operator', `anvil-operator.${NS}`, `anvil-operator.${NS}.svc`]));
    // The chart no longer renders Certificates itself: one owner per object.
    expect(kinds(objs).filter((k) => k.startsWith('Certificate/'))).toEqual([]);
    // The Secrets they produce are mounted optionally: the pods start before cert-manager has issued.
    const volumes = (podSpec(find(objs, 'Deployment', 'anvil-operator')) as unknown as { volumes: { name: string; secret?: { secretName: string; optional?: boolean } }[] }).volumes;
    expect(volumes.find((v) => v.name === 'tls')?.secret).toEqual({ secretName: 'anvil-operator-tls', optional: true });
  });
});

describe('database.url', () => {
  it('is stored in a hook Secret that exists before the migration Job', () => {
    const objs = render({ database: { url: 'postgresql://anvil:secret@db:5432/anvil' } });
    const secret = find(objs, 'Secret', 'anvil-database');
    const job = find(objs, 'Job', 'anvil-migrate');
    expect(Number(secret.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(Number(job.metadata.annotations?.['helm.sh/hook-weight']));
    expect(container(objs, 'anvil-operator').env).toContainEqual({ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'anvil-database', key: 'url' } } });
  });
});

describe('bad values are rejected with a clear message', () => {
  it.each([
    ['operator.replicas < 1', { operator: { replicas: 0 } }, "at '/operator/replicas': minimum: got 0, want 1"],
    ['bootServer.replicas < 1', { bootServer: { replicas: 0 } }, "at '/bootServer/replicas': minimum: got 0, want 1"],
    ['a TFTP port above 65535', { bootServer: { tftp: { enabled: true, port: 70000 } } }, "at '/bootServer/tftp/port': maximum: got 70,000, want 65,535"],
    ['a port that is not a number', { operator: { metricsPort: 'http' } }, "at '/operator/metricsPort': got string, want integer"],
    ['an unknown top-level key', { replicas: 3 }, "additional properties 'replicas' not allowed"],
    ['a misspelt nested key', { bootServer: { hostNetworking: true } }, "at '/bootServer': additional properties 'hostNetworking' not allowed"],
    ['a bad CIDR', { networkPolicy: { provisioningCIDRs: ['10.0.0.0/33'] } }, "at '/networkPolicy/provisioningCIDRs/0': '10.0.0.0/33' does not match pattern"],
    ['an unknown log level', { logLevel: 'verbose' }, "at '/logLevel': value must be one of 'trace', 'debug', 'info', 'warn', 'error', 'fatal'"],
    ['a non-PostgreSQL database URL', { database: { url: 'mysql://db/anvil' } }, "at '/database/url': 'mysql://db/anvil' does not match pattern"],
    ['a public URL that is not http(s)', { bootServer: { publicURL: 'tftp://10.0.0.2' } }, "at '/bootServer/publicURL'"],
    ['an invalid namespace name', { watchNamespaces: ['Metal_A'] }, "at '/watchNamespaces/0': 'Metal_A' does not match pattern"],
    ['a PDB that blocks every drain', { operator: { replicas: 2, podDisruptionBudget: { enabled: true, minAvailable: 2 } } }, 'operator.podDisruptionBudget.minAvailable (2) must be less than operator.replicas (2)'],
    ['both database.url and database.existingSecret', { database: { url: 'postgresql://db/anvil', existingSecret: 'db' } }, 'set database.url or database.existingSecret, not both'],
    ['cert-manager without an issuer', { certManager: { enabled: true } }, 'certManager.enabled needs certManager.issuerRef.name'],
    ['two boot-servers on one ReadWriteOnce volume', { bootServer: { replicas: 2 } }, 'bootServer.replicas > 1 cannot share a ReadWriteOnce volume'],
    ['proxyDHCP on the pod network', { bootServer: { proxyDhcp: { enabled: true } } }, "bootServer.proxyDhcp.enabled needs bootServer.hostNetwork: PXE clients broadcast DHCP on the node's segment"],
    ['Discovered hosts in a namespace the operator does not watch', { watchNamespaces: ['metal-a'], bootServer: { discovery: { mode: 'create', namespace: 'lab' } } }, 'bootServer.discovery.namespace "lab" must be one of watchNamespaces, or the operator never sees the Discovered hosts'],
    ['an unknown discovery mode', { bootServer: { discovery: { mode: 'adopt' } } }, "at '/bootServer/discovery/mode': value must be one of 'record', 'create'"],
    ['a managed pool without the proxyDHCP', { bootServer: { proxyDhcp: { managed: { pool: '10.0.0.100-10.0.0.199' } } } }, 'bootServer.proxyDhcp.managed.pool needs bootServer.proxyDhcp.enabled'],
    ['a proxyDHCP address that is not IPv4', { bootServer: { hostNetwork: true, proxyDhcp: { enabled: true, address: 'boot.lab' } } }, "at '/bootServer/proxyDhcp/address': 'boot.lab' does not match pattern"],
  ])('%s', (_name, values, message) => {
    expect(renderError(values)).toContain(message);
  });
});
