// The pod's service account, used when there is no kubeconfig (anvil run in a pod).
import { join } from 'node:path';
import { fs } from './builtins.js';
import type { ClusterAccess } from './cluster-access.js';

/** Where a pod's service account is mounted; ANVIL_SERVICE_ACCOUNT_DIR moves it (tests, unusual mounts). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The API server and token of the pod's service account, when running in a pod. */
export function inCluster(env: NodeJS.ProcessEnv): ClusterAccess | undefined {
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
