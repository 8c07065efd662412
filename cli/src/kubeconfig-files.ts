// Reads and merges kubeconfig files as kubectl does: --kubeconfig, else the files listed in KUBECONFIG (the first
// file to define a name or the current-context wins, missing files are skipped), else ~/.kube/config. Each entry
// keeps the directory of its file, for relative paths.
import { delimiter, dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { fs } from './builtins.js';
import type { ExecCredentialConfig, LoadOptions } from './cluster-access.js';
import { ClusterError } from './errors.js';

export interface Named<T> {
  name: string;
  value: T;
  /** Directory of the file that defined it, for relative paths. */
  dir: string;
  file: string;
}

export interface RawCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}

export interface RawUser {
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

export interface RawContext {
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

export const kubeconfigHint = 'Set KUBECONFIG or pass --kubeconfig PATH (kind, k3s, kubeadm and cloud CLIs write one), or run anvil in a pod with a service account.';

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

/** Whether the files define nothing at all (then the pod's service account is tried). */
export const isEmpty = (k: MergedKubeconfig): boolean => !k.clusters.size && !k.contexts.size && !k.users.size && !k.currentContext;
