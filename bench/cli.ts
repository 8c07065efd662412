// Benchmark: how long the anvil CLI takes from exec to exit, against `kubectl` doing the same, in the same run and
// interleaved (so both see the same load): `--version` against `kubectl version --client`, and listing hosts from a
// real kube-apiserver against `kubectl get baremetalhosts`. Median of N runs each. Also measured, for reference: the
// wrapper a checkout uses (scripts/anvil: bash, freshness check of the bundle), Node's own start-up (`node -e 0`, the
// floor for any Node CLI) and the CLI run from its TypeScript sources through tsx, as scripts/anvil did before the
// bundle. The target (issue 22) is under 300 ms.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { anvilCrds } from '@anvil/core/api';
import type { KubeObject } from '@anvil/core/kube';
import { startControlPlane, type ControlPlane } from '../test/harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds } from '../test/harness/kube.js';
import { HostType } from '../test/harness/installer-sim.js';
import { kubeTools } from '../test/harness/tools.js';
import type { BenchContext } from './context.js';
import { ROOT } from './lib/anchors.js';
import { median, type BenchmarkResult, type Row } from './lib/results.js';

const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const BUNDLE = join(ROOT, 'dist', 'cli', 'anvil.js');
const NAMESPACE = 'bench-cli';
const HOSTS = 20;

/** GNU time reports the CPU a command used (user + system): less at the mercy of other load than the wall clock. */
const GNU_TIME = '/usr/bin/time';

interface Sample {
  /** Milliseconds from spawn to exit. */
  wall: number;
  /** Milliseconds of CPU, user + system; NaN without GNU time. */
  cpu: number;
}

/** Runs a command once; throws when it fails (a failing command measures nothing). */
function timeRun(command: string, args: readonly string[], cpuFile: string): Sample {
  const withCpu = existsSync(GNU_TIME);
  const [cmd, argv] = withCpu ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, command, ...args]] : [command, [...args]];
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.slice(-500)}`);
  const cpu = withCpu ? readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).reduce((a, v) => a + Number(v) * 1000, 0) : NaN;
  return { wall, cpu };
}

const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

export async function cliStartup(ctx: BenchContext): Promise<BenchmarkResult> {
  const runs = ctx.quick ? 5 : 21;
  const { kubectl } = kubeTools();
  const kubectlVersion = (JSON.parse(spawnSync(kubectl, ['version', '--client', '-o', 'json'], { encoding: 'utf8' }).stdout) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
  const anchor = `kubectl ${kubectlVersion}`;
  ctx.log(`cli: building the bundle, starting a kube-apiserver with ${HOSTS} hosts`);
  spawnSync(NODE, [join(ROOT, 'cli', 'src', 'build.ts')], { stdio: 'inherit' });
  let cp: ControlPlane | undefined;
  try {
    cp = await startControlPlane();
    const client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, NAMESPACE);
    for (let i = 0; i < HOSTS; i++) {
      const mac = `52:54:00:be:00:${i.toString(16).padStart(2, '0')}`;
      await client.create(HostType, { apiVersion: 'anvil.dev/v1alpha1', kind: 'BareMetalHost', metadata: { name: `node-${String(i).padStart(2, '0')}`, namespace: NAMESPACE }, spec: { bootMACAddress: mac } });
    }
    const kube = ['--kubeconfig', cp.kubeconfigPath, '-n', NAMESPACE];
    const cases = {
      anvilVersion: [NODE, BUNDLE, '--version'],
      kubectlVersion: [kubectl, 'version', '--client'],
      anvilHosts: [NODE, BUNDLE, 'hosts', ...kube],
      kubectlHosts: [kubectl, 'get', 'baremetalhosts', ...kube],
      wrapperVersion: [join(ROOT, 'scripts', 'anvil'), '--version'],
      nodeAlone: [NODE, '-e', '0'],
    } as const;
    const cpuFile = join(ctx.workDir, 'cpu');
    const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, [] as Sample[]])) as Record<keyof typeof cases, Sample[]>;
    // One untimed round first: file caches warm for every command alike.
    for (const [cmd, ...args] of Object.values(cases)) timeRun(cmd, args, cpuFile);
    for (let round = 0; round < runs; round++) {
      for (const [name, [cmd, ...args]] of Object.entries(cases) as [keyof typeof cases, readonly string[]][]) samples[name].push(timeRun(cmd!, args, cpuFile));
    }
    const tsxRuns = ctx.quick ? 1 : 3;
    const fromSources: Sample[] = [];
    for (let i = 0; i < tsxRuns; i++) fromSources.push(timeRun(NODE, ['--conditions=anvil-source', '--import', 'tsx', join(ROOT, 'cli', 'src', 'main.ts'), '--version'], cpuFile));

    const wall = (s: Sample[]): number => median(s.map((x) => x.wall));
    const cpu = (s: Sample[]): number | null => (s.some((x) => Number.isNaN(x.cpu)) ? null : median(s.map((x) => x.cpu)));
    const rows: Row[] = [];
    const pair = (setting: string, anvil: Sample[], kubectlSamples: Sample[]): void => {
      rows.push({ setting, metric: `exec to exit, median of ${runs}`, unit: 'ms', better: 'lower', anvil: wall(anvil), anchors: { [anchor]: wall(kubectlSamples) } });
      if (cpu(anvil) !== null) rows.push({ setting, metric: `CPU time (user + system), median of ${runs}`, unit: 'ms', better: 'lower', anvil: cpu(anvil), anchors: { [anchor]: cpu(kubectlSamples) } });
    };
    pair('anvil --version | kubectl version --client', samples.anvilVersion, samples.kubectlVersion);
    pair(`anvil hosts | kubectl get baremetalhosts (${HOSTS} hosts, real kube-apiserver)`, samples.anvilHosts, samples.kubectlHosts);
    pair('scripts/anvil --version (bash wrapper, bundle freshness check) | kubectl version --client', samples.wrapperVersion, samples.kubectlVersion);
    const ms = (v: number): string => `${Math.round(v)} ms`;
    return {
      name: 'cli',
      title: 'CLI start-up: anvil (Node 24, bundled) against kubectl',
      anchorNames: [anchor],
      rows,
      commands: [
        'npm run bench -- --only cli',
        'npm run build:cli',
        ...[cases.anvilVersion, cases.kubectlVersion, cases.anvilHosts, cases.kubectlHosts].map((c) => c.map((a) => quote(a.replace(ROOT, './').replace(cp!.kubeconfigPath, 'KUBECONFIG'))).join(' ')),
      ],
      notes: [
        `Target: under 300 ms. Node's own start-up (\`node -e 0\`, the floor for any Node CLI): ${ms(wall(samples.nodeAlone))}${cpu(samples.nodeAlone) !== null ? `, ${ms(cpu(samples.nodeAlone)!)} of CPU` : ''} (median of ${runs}).`,
        `From TypeScript sources through tsx (what scripts/anvil ran before the bundle): ${ms(wall(fromSources))} for --version (median of ${tsxRuns}).`,
        `Each command ran once untimed first; then the commands took turns, so that each saw the same load. Every run goes through ${existsSync(GNU_TIME) ? `${GNU_TIME} (for the CPU time), anvil's and kubectl's alike` : 'no CPU accounting (GNU time is not installed)'}.`,
      ],
      load: { before: 0, after: 0 },
      seconds: 0,
    };
  } finally {
    await cp?.stop();
  }
}
