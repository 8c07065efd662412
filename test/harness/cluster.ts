// A real single-node Kubernetes cluster (kubelet + containerd + kube-proxy + the control plane) for the tests under
// test/cluster, started and stopped by scripts/cluster/start.sh and stop.sh inside a private network + mount namespace.
// Binaries: scripts/build-kube-apiserver.sh, or another release from ANVIL_K8S_BIN. Images: scripts/cluster/build-images.sh.
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeBinDir } from './control-plane.js';
import { ROOT } from './processes.js';
import { kubeTools } from './tools.js';

const SCRIPTS = join(ROOT, 'scripts', 'cluster');

export interface RunOptions {
  /** Written to the command's stdin. */
  input?: string;
  env?: Record<string, string>;
  /** Killed (and the call rejected) after this long; default 5 minutes. */
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never rejects on a non-zero exit (see `run`). */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString() + (signal ? `\n(killed by ${signal})` : '');
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr });
    });
    child.stdin.on('error', () => undefined); // the command may exit without reading its input
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a command and returns its stdout; rejects with the command line and its stderr when it fails. */
export async function run(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  const r = await runCommand(command, args, options);
  if (r.code !== 0) throw new Error(`${[command, ...args].join(' ')} exited with ${r.code}:\n${r.stderr.trim()}\n${r.stdout.trim()}`);
  return r.stdout;
}

/** Why the cluster tests cannot run here, or undefined. They fail with this message rather than skip. */
export function clusterMissing(): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'the test cluster needs Linux and root (namespaces, cgroups, containerd)';
  const bin = kubeBinDir();
  for (const b of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl']) {
    if (!existsSync(join(bin, b))) return `${b} not found in ${bin}: run 'bash scripts/build-kube-apiserver.sh' (or set ANVIL_K8S_BIN)`;
  }
  for (const tool of ['/usr/bin/containerd', '/usr/sbin/runc', '/usr/bin/buildah', '/usr/bin/socat', '/usr/lib/cni/bridge']) {
    if (!existsSync(tool)) return `${tool} not found: run 'bash scripts/cluster/install-packages.sh'`;
  }
  return undefined;
}

/**
 * Builds (or finds cached) the cluster's images and hard-links their docker-archive tars into `out`: pause.tar,
 * busybox.tar and, with `anvilTag`, anvil-<tag>.tar holding localhost/anvil:<tag> built from the checkout's Dockerfile.
 */
export async function buildClusterImages(out: string, anvilTag?: string): Promise<void> {
  await run('bash', [join(SCRIPTS, 'build-images.sh'), '--out', out, ...(anvilTag ? ['--anvil', anvilTag] : [])], { timeoutMs: 30 * 60_000 });
}

export interface ClusterOptions {
  /** Also build the project's image as localhost/anvil:<tag> and import it into the node. */
  anvilTag?: string;
  /** Kubernetes binaries (default: ANVIL_K8S_BIN, else scripts/build-kube-apiserver.sh's cache). */
  binDir?: string;
  /** An empty directory for the cluster's state (default: a new one under the temp dir); removed by stop(). */
  runDir?: string;
}

export interface Cluster {
  readonly dir: string;
  /** Admin kubeconfig for the host side (https://127.0.0.1:<forwarded port>). */
  readonly kubeconfig: string;
  readonly server: string;
  /** Of kube-apiserver, e.g. v1.20.2. */
  readonly version: string;
  readonly nodeName: string;
  /** The node's address inside the cluster's network namespace (hostNetwork pods listen there). */
  readonly nodeIp: string;
  /** The process holding the cluster's namespaces. */
  readonly holderPid: number;
  /** The kubelet's cgroup root, under each cgroup v1 hierarchy (/sys/fs/cgroup/<controller><cgroupRoot>). */
  readonly cgroupRoot: string;
  /** kubectl of the cluster's own release (from its binaries). */
  kubectl(args: string[], options?: RunOptions): Promise<string>;
  helm(args: string[], options?: RunOptions): Promise<string>;
  /** Runs a command inside the cluster's network + mount namespace (where pod and Service IPs are reachable). */
  nsrun(command: string[], options?: RunOptions): Promise<string>;
  /** Imports a docker-archive tar into the node's containerd (pods use it with imagePullPolicy Never). */
  importImage(tar: string): Promise<void>;
  /** Gives an image in the node's containerd another name (a "new" tag of the same image, to roll pods). */
  tagImage(source: string, target: string): Promise<void>;
  /** A ServiceAccount token from the TokenRequest API (no auto-created token Secrets since Kubernetes 1.24). */
  requestToken(namespace: string, serviceAccount: string, expirationSeconds?: number): Promise<string>;
  /** Nodes, pods, events and the tail of every component's log: for failure messages. */
  diagnostics(): Promise<string>;
  /** Stops everything and removes the run directory (kept, stopped, with ANVIL_KEEP_CLUSTER=1). */
  stop(): Promise<void>;
}

function parseEnv(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  return env;
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function stopCluster(dir: string): Promise<void> {
  const keep = process.env.ANVIL_KEEP_CLUSTER === '1';
  await run('bash', [join(SCRIPTS, 'stop.sh'), dir, ...(keep ? [] : ['--purge'])], { timeoutMs: 180_000 });
}

/**
 * Starts a cluster in a fresh run directory; stops it again (leaving nothing) when the start fails, and when this
 * process exits without calling stop() (the start script's watchdog).
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const missing = clusterMissing();
  if (missing) throw new Error(missing);
  // short: containerd's socket path lives under it
  const dir = options.runDir ?? mkdtempSync(join(tmpdir(), 'anvil-cluster-'));
  try {
    await buildClusterImages(join(dir, 'images'), options.anvilTag);
    const start = await runCommand('bash', [join(SCRIPTS, 'start.sh'), dir], {
      env: { ANVIL_K8S_BIN: options.binDir ?? kubeBinDir(), ANVIL_CLUSTER_OWNER_PID: String(process.pid) },
      timeoutMs: 15 * 60_000,
    });
    if (start.code !== 0) throw new Error(`scripts/cluster/start.sh failed (${start.code}):\n${start.stderr}`);
  } catch (err) {
    // start.sh stops what it started when it fails; this removes the directory (and covers a failed image build)
    await stopCluster(dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const env = parseEnv(join(dir, 'cluster.env'));
  const bin = env.BIN ?? kubeBinDir();
  const kubeconfig = join(dir, 'admin.kubeconfig');
  const helmHome = join(dir, 'helm');
  mkdirSync(helmHome, { recursive: true });
  const helmEnv = {
    KUBECONFIG: kubeconfig,
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  };
  const kubectl = (args: string[], o: RunOptions = {}) =>
    run(join(bin, 'kubectl'), ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args], o);
  const nsrun = (command: string[], o: RunOptions = {}) => run(join(dir, 'nsrun'), command, o);
  let stopped = false;

  return {
    dir,
    kubeconfig,
    server: env.SERVER ?? '',
    version: env.VERSION ?? '',
    nodeName: env.NODE_NAME ?? '',
    nodeIp: env.NODE_IP ?? '',
    holderPid: Number(env.HOLDER_PID),
    cgroupRoot: env.CGROUP_ROOT ?? '',
    kubectl,
    helm: (args, o = {}) => run(kubeTools().helm, args, { ...o, env: { ...helmEnv, ...o.env } }),
    nsrun,
    importImage: async (tar) => {
      await nsrun(['ctr', '--address', env.CONTAINERD_SOCKET ?? '', '-n', 'k8s.io', 'images', 'import', tar], { timeoutMs: 600_000 });
    },
    tagImage: async (source, target) => {
      await nsrun(['ctr', '--address', env.CONTAINERD_SOCKET ?? '', '-n', 'k8s.io', 'images', 'tag', '--force', source, target]);
    },
    requestToken: async (namespace, serviceAccount, expirationSeconds = 3600) => {
      const request = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } };
      const out = await kubectl(
        ['create', '--raw', `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, '-f', '-'],
        { input: JSON.stringify(request) },
      );
      return (JSON.parse(out) as { status: { token: string } }).status.token;
    },
    diagnostics: async () => {
      const parts: string[] = [];
      for (const args of [['get', 'nodes,pods,svc,pvc', '-A', '-o', 'wide'], ['get', 'events', '-A', '--sort-by=.lastTimestamp']]) {
        const r = await runCommand(join(bin, 'kubectl'), ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeoutMs: 30_000 });
        parts.push(`$ kubectl ${args.join(' ')}\n${r.stdout}${r.stderr}`);
      }
      const logs = join(dir, 'logs');
      for (const f of existsSync(logs) ? readdirSync(logs).sort() : []) parts.push(`--- ${f}\n${tail(join(logs, f), 15)}`);
      return parts.join('\n');
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stopCluster(dir);
    },
  };
}

/**
 * The PersistentVolume the chart's boot-server claims (ReadWriteOnce, 20Gi): this cluster has no provisioner, so a
 * hostPath directory, owned by the image's non-root user (hostPath volumes get no fsGroup ownership change).
 */
export async function createBootServerVolume(cluster: Cluster): Promise<void> {
  const path = join(cluster.dir, 'pv', 'boot-server');
  mkdirSync(path, { recursive: true });
  chownSync(path, 10001, 10001);
  const pv = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'anvil-boot-server-data' },
    spec: { capacity: { storage: '20Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', hostPath: { path, type: 'Directory' } },
  };
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pv) });
}
