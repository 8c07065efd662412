// What a command gets to do its work: its arguments and flags, stdout, the cluster (connected on first use), and a
// signal that fires when the user interrupts or the reader of stdout goes away.
import type { FlagValues } from './argv.js';
import type { ClusterAccess } from './kubeconfig.js';
import type { HttpKubeClient } from './kube-http.js';
import type { CommandSpec } from './spec.js';

export interface Cluster {
  client: HttpKubeClient;
  access: ClusterAccess;
  /** -n, else the context's namespace. */
  namespace: string;
}

export interface CommandContext {
  /** `anvil`, or `kubectl anvil` when run as a kubectl plugin: for messages. */
  program: string;
  command: CommandSpec;
  args: readonly string[];
  flags: FlagValues;
  /** Writes to stdout (a newline is added when missing). */
  out(text: string): void;
  /** Writes a line to stderr. */
  warn(text: string): void;
  /** The cluster: the kubeconfig is read and the client made on first call. */
  cluster(): Promise<Cluster>;
  /** -n, else the kubeconfig context's namespace, else "default"; never needs the cluster. */
  namespace(): Promise<string>;
  /** Aborted on SIGINT or when stdout is closed: long-running commands stop and return. */
  signal: AbortSignal;
  version: string;
}

export const flagString = (flags: FlagValues, name: string): string | undefined => {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
};

export const flagNumber = (flags: FlagValues, name: string): number | undefined => {
  const v = flags[name];
  return typeof v === 'number' ? v : undefined;
};

export const flagBool = (flags: FlagValues, name: string): boolean => flags[name] === true;
