// client-go exec credential plugins (kubelogin, gke-gcloud-auth-plugin, aws eks get-token...): run when a token is
// first needed, again once it expires.
import { isAbsolute, join } from 'node:path';
import type { ClusterAccess, ExecCredentialConfig } from './cluster-access.js';
import { ClusterError } from './errors.js';
import type { Named, RawUser } from './kubeconfig-files.js';

interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

/** Runs a client-go exec credential plugin when a token is first needed, again once it expires. */
export function execToken(exec: ExecCredentialConfig, user: Named<RawUser>, access: ClusterAccess, env: NodeJS.ProcessEnv): () => string | undefined {
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
