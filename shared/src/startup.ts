// How a long-running anvil process reports its start. A start that fails for a reason the person running it can fix
// (no kubeconfig, an address already in use, a database that refuses the connection) ends with one error line that
// says what to change; anything else is a bug and keeps its stack.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from './logging.js';
import { loadKubeConfig } from './kube/rest-client.js';

/** Where client-node finds the credentials of a Pod's service account (its "in-cluster" configuration). */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** A start that cannot succeed for a reason outside the program: reported in one line, without a stack. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * The kubeconfig a process runs with: --kubeconfig, else KUBECONFIG, ~/.kube/config or the in-cluster service
 * account, like kubectl. Without any of them client-node would quietly use http://localhost:8080 and every request
 * would fail with an unrelated message; this says what is missing instead.
 */
export function loadKubeConfigOrExplain(path: string | undefined, env: NodeJS.ProcessEnv = process.env, home: string = homedir()): ReturnType<typeof loadKubeConfig> {
  const found = path ?? (env.KUBECONFIG || undefined) ?? [join(home, '.kube', 'config'), SERVICE_ACCOUNT_TOKEN].find((p) => existsSync(p));
  if (!found) {
    throw new StartupError(`no kubeconfig: pass --kubeconfig PATH or set KUBECONFIG (none at ${join(home, '.kube', 'config')}, and not running in a Pod)`);
  }
  try {
    return loadKubeConfig(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reasons: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'a directory, not a file' };
    // A YAML error's message goes on with an excerpt of the file: its first line says what is wrong.
    const reason = (code && reasons[code]) ?? (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new StartupError(`cannot use the kubeconfig ${found === SERVICE_ACCOUNT_TOKEN ? '(in-cluster)' : found}: ${reason}`);
  }
}

interface SocketError {
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
}

/**
 * One line for a start that failed for an expected reason, undefined for anything else. `portFlags` names the flags
 * that choose this process's ports, for the hint.
 */
export function describeStartupFailure(err: unknown, portFlags = 'the port flags'): string | undefined {
  if (err instanceof StartupError) return err.message;
  if (!err || typeof err !== 'object') return undefined;
  const { code, syscall, address, port } = err as SocketError;
  if (syscall === 'listen' || syscall === 'bind') {
    const where = typeof address === 'string' && typeof port === 'number' ? `${address.includes(':') ? `[${address}]` : address}:${port}` : 'the address';
    if (code === 'EADDRINUSE') return `${where} is already in use by another process: stop it, or choose another port (${portFlags})`;
    if (code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: not an address of this machine`;
    if (code === 'EACCES') return `not allowed to listen on ${where}: ports below 1024 need root (or CAP_NET_BIND_SERVICE)`;
  }
  // PostgreSQL answered and refused (bad credentials, unknown database...): an unreachable one is waited for instead.
  const { severity } = err as { severity?: unknown };
  if (typeof severity === 'string' && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return `the install history database refused the connection: ${(err as Error).message} (SQLSTATE ${code}; check --database-url)`;
  }
  return undefined;
}

/** Ends a process whose start failed: an expected failure as one error line, anything else with its stack. */
export function exitAfterFailedStart(component: string, err: unknown, portFlags?: string): never {
  const log = createLogger(component, 'info');
  const expected = describeStartupFailure(err, portFlags);
  if (expected) log.error(`cannot start: ${expected}`);
  else log.fatal({ err }, 'failed to start');
  process.exit(1);
}

/** host:port as it goes into a URL (IPv6 addresses in brackets). */
export function urlHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
