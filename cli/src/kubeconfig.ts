// Finds the cluster as kubectl does: --kubeconfig, else the files listed in KUBECONFIG (merged: the first file to
// define a name or the current-context wins, missing files are skipped), else ~/.kube/config, else the pod's service
// account (in-cluster). --context picks another context; -n overrides its namespace. Relative paths in a kubeconfig
// are relative to the file that holds them. Parsed by hand rather than with @kubernetes/client-node, whose loading
// alone takes longer than the whole command should (docs/cli.md, "Startup").
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { fs } from './builtins.js';
import { ClusterError } from './errors.js';

/** Where a pod's service account is mounted; ANVIL_SERVICE_ACCOUNT_DIR moves it (tests, unusual mounts). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ExecCredentialConfig {
  apiVersion?: string;
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  installHint?: string;
  provideClusterInfo?: boolean;
}

/** Everything needed to talk to the API server, with secrets resolved lazily where they can rotate. */
export interface ClusterAccess {
  server: string;
  ca?: Buffer;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  clientCert?: Buffer;
  clientKey?: Buffer;
  /** A bearer token: fixed, read from a file at each request (it may rotate), or from an exec plugin. */
  token?: () => string | undefined;
  basicAuth?: { username: string; password: string };
  impersonate?: { user?: string; groups?: string[] };
  /** The namespace to use without -n: the context's, the service account's, else "default". */
  namespace: string;
  /** For messages: where this came from, e.g. `context "prod" of /home/me/.kube/config`. */
  source: string;
}

export interface LoadOptions {
  /** --kubeconfig */
  kubeconfig?: string;
  /** --context */
  context?: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

interface Named<T> {
  name: string;
  value: T;
  /** Directory of the file that defined it, for relative paths. */
  dir: string;
  file: string;
}

interface RawCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}

interface RawUser {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  username?: string;
  password?: string;
  exec?: ExecCredentialConfig;
  'auth-provider'?: { name?: string };
  as?: string;
  'as-groups'?: string[];
}

interface RawContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}

interface RawConfig {
  'current-context'?: string;
  clusters?: { name: string; cluster?: RawCluster }[];
  users?: { name: string; user?: RawUser }[];
  contexts?: { name: string; context?: RawContext }[];
}

export interface MergedKubeconfig {
  /** The files read, in order. */
  files: string[];
  /** Where the files were looked for, for the "no kubeconfig" message. */
  searched: string[];
  currentContext?: string;
  clusters: Map<string, Named<RawCluster>>;
  users: Map<string, Named<RawUser>>;
  contexts: Map<string, Named<RawContext>>;
}

const kubeconfigHint = 'Set KUBECONFIG or pass --kubeconfig PATH (kind, k3s, kubeadm and cloud CLIs write one), or run anvil in a pod with a service account.';

function readConfigFile(file: string): RawConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ClusterError(`cannot read kubeconfig ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, kubeconfigHint);
  }
  let config: unknown;
  try {
    config = text.trim() ? parse(text) : {};
  } catch (err) {
    throw new ClusterError(`kubeconfig ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (config === null || config === undefined) return {};
  if (typeof config !== 'object' || Array.isArray(config)) throw new ClusterError(`kubeconfig ${file} is not a kubeconfig (expected a mapping with clusters, users and contexts)`);
  return config as RawConfig;
}

/** The kubeconfig files kubectl would read, merged. Never throws for missing default files; --kubeconfig must exist. */
export function loadKubeconfig(options: LoadOptions = {}): MergedKubeconfig {
  const env = options.env ?? process.env;
  const home = options.home ?? env.HOME ?? '';
  let candidates: string[];
  if (options.kubeconfig) {
    if (!fs.existsSync(options.kubeconfig)) throw new ClusterError(`kubeconfig ${options.kubeconfig} (from --kubeconfig) does not exist`, kubeconfigHint);
    candidates = [options.kubeconfig];
  } else if (env.KUBECONFIG) {
    candidates = [...new Set(env.KUBECONFIG.split(delimiter).filter(Boolean))];
  } else {
    candidates = home ? [join(home, '.kube', 'config')] : [];
  }
  const merged: MergedKubeconfig = { files: [], searched: candidates, clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const candidate of candidates) {
    const file = resolve(candidate);
    if (!fs.existsSync(file)) continue;
    const config = readConfigFile(file);
    merged.files.push(file);
    const dir = dirname(file);
    if (!merged.currentContext && config['current-context']) merged.currentContext = config['current-context'];
    const add = <T>(map: Map<string, Named<T>>, items: { name: string }[] | undefined, key: string): void => {
      for (const item of Array.isArray(items) ? items : []) {
        if (item && typeof item.name === 'string' && !map.has(item.name)) map.set(item.name, { name: item.name, value: ((item as Record<string, unknown>)[key] ?? {}) as T, dir, file });
      }
    };
    add(merged.clusters, config.clusters, 'cluster');
    add(merged.users, config.users, 'user');
    add(merged.contexts, config.contexts, 'context');
  }
  return merged;
}

const isEmpty = (k: MergedKubeconfig): boolean => !k.clusters.size && !k.contexts.size && !k.users.size && !k.currentContext;

function fileBytes(dir: string, path: string | undefined, data: string | undefined, what: string, where: string): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  if (!path) return undefined;
  const full = isAbsolute(path) ? path : join(dir, path);
  try {
    return fs.readFileSync(full);
  } catch (err) {
    throw new ClusterError(`cannot read the ${what} of ${where}: ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function inCluster(env: NodeJS.ProcessEnv): ClusterAccess | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const dir = env.ANVIL_SERVICE_ACCOUNT_DIR || SERVICE_ACCOUNT_DIR;
  const tokenFile = join(dir, 'token');
  if (!host || !port || !fs.existsSync(tokenFile)) return undefined;
  const caFile = join(dir, 'ca.crt');
  const nsFile = join(dir, 'namespace');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ...(fs.existsSync(caFile) ? { ca: fs.readFileSync(caFile) } : {}),
    insecureSkipTlsVerify: false,
    token: () => fs.readFileSync(tokenFile, 'utf8').trim(),
    namespace: fs.existsSync(nsFile) ? fs.readFileSync(nsFile, 'utf8').trim() || 'default' : 'default',
    source: `the pod's service account (${dir})`,
  };
}

/** The cluster to talk to, or a ClusterError saying why there is none and how to fix it. */
export function resolveClusterAccess(options: LoadOptions = {}): ClusterAccess {
  const env = options.env ?? process.env;
  const kubeconfig = loadKubeconfig(options);
  if (isEmpty(kubeconfig) && !options.kubeconfig) {
    const pod = inCluster(env);
    if (pod) return pod;
    const where = kubeconfig.searched.length ? kubeconfig.searched.join(', ') : '~/.kube/config (HOME is not set)';
    throw new ClusterError(`no cluster configured: no kubeconfig at ${where}${env.KUBECONFIG ? ' (from KUBECONFIG)' : ''}, and not running in a pod`, kubeconfigHint);
  }
  const files = kubeconfig.files.join(', ');
  const contextNames = [...kubeconfig.contexts.keys()];
  const name = options.context ?? kubeconfig.currentContext;
  if (!name) {
    throw new ClusterError(
      `kubeconfig ${files} has no current-context`,
      contextNames.length ? `Pass --context NAME (one of: ${contextNames.join(', ')}) or run 'kubectl config use-context NAME'.` : 'It defines no context either; see kubectl config set-context.',
    );
  }
  const context = kubeconfig.contexts.get(name);
  if (!context) {
    throw new ClusterError(
      `context "${name}"${options.context ? ' (from --context)' : ''} is not in kubeconfig ${files}`,
      contextNames.length ? `Contexts there: ${contextNames.join(', ')}.` : 'It defines no context.',
    );
  }
  const source = `context "${name}" of ${context.file}`;
  const cluster = context.value.cluster ? kubeconfig.clusters.get(context.value.cluster) : undefined;
  if (!cluster) throw new ClusterError(`${source} refers to cluster "${context.value.cluster ?? ''}", which is not defined`);
  const c = cluster.value;
  if (!c.server) throw new ClusterError(`cluster "${cluster.name}" in ${cluster.file} has no server`);
  if (c['proxy-url']) throw new ClusterError(`cluster "${cluster.name}" uses proxy-url, which anvil does not support yet`, 'Reach the API server directly (or through a kubectl port-forward / SSH tunnel) and use a kubeconfig without proxy-url.');
  const where = `cluster "${cluster.name}"`;
  const access: ClusterAccess = {
    server: c.server.replace(/\/+$/, ''),
    insecureSkipTlsVerify: c['insecure-skip-tls-verify'] === true,
    namespace: context.value.namespace || 'default',
    source,
  };
  const ca = fileBytes(cluster.dir, c['certificate-authority'], c['certificate-authority-data'], 'certificate authority', where);
  if (ca) access.ca = ca;
  if (c['tls-server-name']) access.tlsServerName = c['tls-server-name'];

  const userName = context.value.user;
  const user = userName ? kubeconfig.users.get(userName) : undefined;
  if (userName && !user) throw new ClusterError(`${source} refers to user "${userName}", which is not defined`);
  if (user) applyUser(access, user, env);
  return access;
}

function applyUser(access: ClusterAccess, user: Named<RawUser>, env: NodeJS.ProcessEnv): void {
  const u = user.value;
  const where = `user "${user.name}"`;
  if (u['auth-provider']) {
    throw new ClusterError(`${where} in ${user.file} uses auth-provider "${u['auth-provider'].name ?? '?'}", which anvil does not support`, 'Use an exec credential plugin instead (kubelogin, gke-gcloud-auth-plugin, aws eks get-token), as kubectl 1.26+ requires too.');
  }
  const cert = fileBytes(user.dir, u['client-certificate'], u['client-certificate-data'], 'client certificate', where);
  const key = fileBytes(user.dir, u['client-key'], u['client-key-data'], 'client key', where);
  if (cert) access.clientCert = cert;
  if (key) access.clientKey = key;
  if (u.token) {
    const token = u.token;
    access.token = () => token;
  } else if (u.tokenFile) {
    const file = isAbsolute(u.tokenFile) ? u.tokenFile : join(user.dir, u.tokenFile);
    access.token = () => {
      try {
        return fs.readFileSync(file, 'utf8').trim();
      } catch (err) {
        throw new ClusterError(`cannot read the tokenFile of ${where}: ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    };
  } else if (u.exec) {
    access.token = execToken(u.exec, user, access, env);
  }
  if (u.username !== undefined && u.password !== undefined) access.basicAuth = { username: u.username, password: u.password };
  if (u.as || u['as-groups']?.length) access.impersonate = { ...(u.as ? { user: u.as } : {}), ...(u['as-groups']?.length ? { groups: u['as-groups'] } : {}) };
}

interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

/** Runs a client-go exec credential plugin when a token is first needed, again once it expires. */
function execToken(exec: ExecCredentialConfig, user: Named<RawUser>, access: ClusterAccess, env: NodeJS.ProcessEnv): () => string | undefined {
  let cached: { token?: string; expires?: number } | undefined;
  const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
  return () => {
    if (cached && (cached.expires === undefined || cached.expires > Date.now() + 10_000)) return cached.token;
    const info = {
      apiVersion,
      kind: 'ExecCredential',
      spec: { interactive: false, ...(exec.provideClusterInfo ? { cluster: { server: access.server, ...(access.ca ? { 'certificate-authority-data': access.ca.toString('base64') } : {}) } } : {}) },
    };
    const command = isAbsolute(exec.command) || !exec.command.includes('/') ? exec.command : join(user.dir, exec.command);
    let stdout: string;
    try {
      stdout = process.getBuiltinModule('node:child_process').execFileSync(command, exec.args ?? [], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...env, ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])), KUBERNETES_EXEC_INFO: JSON.stringify(info) },
        timeout: 60_000,
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      const why = e.code === 'ENOENT' ? `${exec.command} is not installed` : `${exec.command} failed: ${(e.stderr ?? e.message).trim().split('\n').pop()}`;
      throw new ClusterError(`the credential plugin of user "${user.name}" did not give a credential: ${why}`, exec.installHint?.trim().split('\n')[0]);
    }
    let status: ExecCredentialStatus | undefined;
    try {
      status = (JSON.parse(stdout) as { status?: ExecCredentialStatus }).status;
    } catch {
      throw new ClusterError(`the credential plugin of user "${user.name}" (${exec.command}) printed something other than an ExecCredential`);
    }
    if (status?.clientCertificateData && status.clientKeyData) {
      access.clientCert = Buffer.from(status.clientCertificateData);
      access.clientKey = Buffer.from(status.clientKeyData);
    }
    const expires = status?.expirationTimestamp ? Date.parse(status.expirationTimestamp) : undefined;
    cached = { ...(status?.token ? { token: status.token } : {}), ...(expires !== undefined && Number.isFinite(expires) ? { expires } : {}) };
    return cached.token;
  };
}

/** The namespace a command uses without -n, when no cluster is needed (history): never fails. */
export function defaultNamespace(options: LoadOptions = {}): string {
  try {
    return resolveClusterAccess(options).namespace;
  } catch {
    return 'default';
  }
}
