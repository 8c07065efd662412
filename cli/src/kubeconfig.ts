// Finds the cluster as kubectl does: --kubeconfig, else the files listed in KUBECONFIG (merged: the first file to
// define a name or the current-context wins, missing files are skipped), else ~/.kube/config, else the pod's service
// account (in-cluster). --context picks another context; -n overrides its namespace. Relative paths in a kubeconfig
// are relative to the file that holds them. Parsed by hand rather than with @kubernetes/client-node, whose loading
// alone takes longer than the whole command should (docs/cli.md, "Startup").
import { isAbsolute, join } from 'node:path';
import { fs } from './builtins.js';
import type { ClusterAccess, LoadOptions } from './cluster-access.js';
import { ClusterError } from './errors.js';
import { execToken } from './exec-credential.js';
import { inCluster } from './in-cluster.js';
import { isEmpty, kubeconfigHint, loadKubeconfig, type Named, type RawUser } from './kubeconfig-files.js';

export type { ClusterAccess, ExecCredentialConfig, LoadOptions } from './cluster-access.js';
export { SERVICE_ACCOUNT_DIR } from './in-cluster.js';
export { loadKubeconfig, type MergedKubeconfig } from './kubeconfig-files.js';

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

/** The namespace a command uses without -n, when no cluster is needed (history): never fails. */
export function defaultNamespace(options: LoadOptions = {}): string {
  try {
    return resolveClusterAccess(options).namespace;
  } catch {
    return 'default';
  }
}
