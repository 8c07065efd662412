// A real etcd + kube-apiserver (+ optional kube-controller-manager) on loopback, for tests and the demo.
// Binaries come from scripts/build-kube-apiserver.sh (Debian's kubernetes source package, cached outside the checkout).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, fetch } from 'undici';

export const K8S_VERSION = '1.20.2';
/** Must match PATCH_LEVEL in scripts/build-kube-apiserver.sh. */
export const K8S_PATCH_LEVEL = 'p3';

export function kubeBinDir(): string {
  const cache = process.env.ANVIL_CACHE_DIR ?? join(homedir(), '.cache', 'anvil');
  return process.env.ANVIL_K8S_BIN ?? join(cache, `k8s-${K8S_VERSION}-${K8S_PATCH_LEVEL}`);
}

/** Explains how to get the binaries when they are missing; tests fail with this rather than skip. */
export function controlPlaneMissing(): string | undefined {
  const dir = kubeBinDir();
  if (!existsSync(join(dir, 'kube-apiserver'))) {
    return `kube-apiserver not found in ${dir}: run 'bash scripts/build-kube-apiserver.sh' (builds it from Debian's kubernetes source package)`;
  }
  try {
    execFileSync('etcd', ['--version'], { stdio: 'ignore' });
  } catch {
    return "etcd not found: run 'bash scripts/build-kube-apiserver.sh' (installs Debian's etcd-server)";
  }
  return undefined;
}

/** Whether a Kubernetes binary still has a flag (the insecure `--port` is gone from newer releases). */
export function helpListsFlag(binary: string, flag: string): boolean {
  let help: string;
  try {
    help = execFileSync(binary, ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    // some releases print their help on stderr and exit non-zero
    const e = err as { stdout?: string; stderr?: string };
    help = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  return new RegExp(`^ +${flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[ =]`, 'm').test(help);
}

/** Ports this process has handed out: never handed out twice (the kernel may give a just-closed port again). */
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export interface ControlPlaneOptions {
  /** Start kube-controller-manager too (garbage collection of owned objects, namespace deletion). */
  controllerManager?: boolean;
  /** How often the apiserver compacts etcd; short values make `410 Gone` reachable in tests. */
  etcdCompactionInterval?: string;
  /** Extra kube-apiserver flags. */
  apiServerArgs?: string[];
}

export interface ControlPlane {
  readonly server: string;
  readonly port: number;
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly token: string;
  readonly caFile: string;
  /** Stops and starts kube-apiserver on the same port (etcd keeps its data). */
  restartApiServer(): Promise<void>;
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  /** Writes a kubeconfig for a token in the given groups (registered at start via extraUsers). */
  stop(): Promise<void>;
  logs(): string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function makeCerts(dir: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=anvil-test-ca'], dir);
  writeFileSync(
    join(dir, 'san.cnf'),
    '[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.cnf', '-extensions', 'ext'], dir);
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

export function writeKubeconfig(path: string, server: string, caFile: string, token: string, user = 'admin'): void {
  const ca = readFileSync(caFile).toString('base64');
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: anvil-test`,
      '  cluster:',
      `    server: ${server}`,
      `    certificate-authority-data: ${ca}`,
      'users:',
      `- name: ${user}`,
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: anvil-test',
      '  context:',
      '    cluster: anvil-test',
      `    user: ${user}`,
      '    namespace: default',
      'current-context: anvil-test',
      '',
    ].join('\n'),
  );
}

async function waitHealthy(url: string, token: string | undefined, proc: ChildProcess, what: string, timeoutMs = 60_000): Promise<void> {
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`${what} exited with code ${proc.exitCode}`);
      try {
        const res = await fetch(url, { dispatcher, headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(2000) });
        await res.text();
        if (res.ok) return;
      } catch {
        // not up yet
      }
      await sleep(200);
    }
    throw new Error(`${what} not healthy at ${url} within ${timeoutMs} ms`);
  } finally {
    await dispatcher.close();
  }
}

async function stopProcess(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 10_000)));
  // The timer is cleared once the process exits: a pending timer would keep jest from exiting.
  const killed = await Promise.race([exited.then(() => true), timedOut]).finally(() => clearTimeout(timer));
  if (!killed) {
    proc.kill('SIGKILL');
    await exited;
  }
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const missing = controlPlaneMissing();
  if (missing) throw new Error(missing);
  const bin = kubeBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'anvil-cp-'));
  makeCerts(dir);
  const token = `admin-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin-uid,"system:masters"\n`);

  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  const logFiles: string[] = [];
  const spawnLogged = (name: string, cmd: string, args: string[]): ChildProcess => {
    const logPath = join(dir, `${name}.log`);
    logFiles.push(logPath);
    const fd = openSync(logPath, 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    return child;
  };

  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const etcd = spawnLogged('etcd', 'etcd', [
    '--name', 'default',
    '--data-dir', join(dir, 'etcd'),
    '--listen-client-urls', etcdUrl,
    '--advertise-client-urls', etcdUrl,
    '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-cluster', `default=http://127.0.0.1:${etcdPeer}`,
    '--unsafe-no-fsync',
  ]);
  const server = `https://127.0.0.1:${apiPort}`;
  const caFile = join(dir, 'ca.crt');
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, server, caFile, token);

  let apiserver: ChildProcess | undefined;
  let kcm: ChildProcess | undefined;
  const apiArgs = [
    '--etcd-servers', etcdUrl,
    '--bind-address', '127.0.0.1',
    '--advertise-address', '127.0.0.1',
    '--secure-port', String(apiPort),
    '--tls-cert-file', join(dir, 'server.crt'),
    '--tls-private-key-file', join(dir, 'server.key'),
    '--client-ca-file', caFile,
    '--token-auth-file', join(dir, 'tokens.csv'),
    '--authorization-mode', 'RBAC',
    '--service-account-issuer', 'https://kubernetes.default.svc',
    '--service-account-key-file', join(dir, 'sa.pub'),
    '--service-account-signing-key-file', join(dir, 'sa.key'),
    '--service-cluster-ip-range', '10.96.0.0/16',
    '--endpoint-reconciler-type', 'none',
    '--enable-priority-and-fairness=false',
    '--etcd-compaction-interval', options.etcdCompactionInterval ?? '5m',
    ...(options.apiServerArgs ?? []),
  ];

  const startApiServer = async (): Promise<void> => {
    apiserver = spawnLogged('kube-apiserver', join(bin, 'kube-apiserver'), apiArgs);
    await waitHealthy(`${server}/readyz`, token, apiserver, 'kube-apiserver');
  };
  const stopApiServer = async (): Promise<void> => {
    await stopProcess(apiserver);
    apiserver = undefined;
  };

  const stopAll = async (): Promise<void> => {
    await stopProcess(kcm);
    await stopApiServer();
    await stopProcess(etcd);
  };

  try {
    await waitHealthy(`${etcdUrl}/health`, undefined, etcd, 'etcd');
    await startApiServer();
    if (options.controllerManager) {
      kcm = spawnLogged('kube-controller-manager', join(bin, 'kube-controller-manager'), [
        '--kubeconfig', kubeconfigPath,
        '--controllers', 'garbagecollector,namespace,serviceaccount-token',
        '--service-account-private-key-file', join(dir, 'sa.key'),
        '--root-ca-file', caFile,
        '--leader-elect=false',
        '--bind-address', '127.0.0.1',
        '--secure-port', '0',
        ...(helpListsFlag(join(bin, 'kube-controller-manager'), '--port') ? ['--port', '0'] : []),
      ]);
    }
  } catch (err) {
    const logs = logFiles.map((f) => `--- ${f}\n${tail(f)}`).join('\n');
    await stopAll();
    if (!process.env.ANVIL_KEEP_CONTROL_PLANE) rmSync(dir, { recursive: true, force: true });
    throw new Error(`control plane failed to start: ${(err as Error).message}\n${logs}`);
  }

  return {
    server,
    port: apiPort,
    dir,
    kubeconfigPath,
    token,
    caFile,
    restartApiServer: async () => {
      await stopApiServer();
      await startApiServer();
    },
    stopApiServer,
    startApiServer,
    stop: async () => {
      await stopAll();
      if (!process.env.ANVIL_KEEP_CONTROL_PLANE) rmSync(dir, { recursive: true, force: true });
    },
    logs: () => logFiles.map((f) => `--- ${f}\n${tail(f)}`).join('\n'),
  };
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
