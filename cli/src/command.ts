// The shapes of the CLI: a command's declaration (flags, arguments, its lazily loaded code) and what the command gets
// when it runs. spec.ts declares the commands with these; argv.ts, help.ts and context.ts work from them.
import type { ClusterAccess } from './kubeconfig.js';
import type { HttpKubeClient } from './kube-http.js';

export type FlagValue = string | number | boolean;
export type FlagValues = Readonly<Record<string, FlagValue | undefined>>;

export type FlagType = 'string' | 'boolean' | 'int' | 'duration';

/** What completion offers for a flag's value or an argument. */
export type Completion = 'files' | 'hosts' | 'namespaces' | 'contexts' | 'choices' | 'commands' | 'none';

export interface FlagSpec {
  /** Long name, without the dashes. */
  name: string;
  short?: string;
  type: FlagType;
  /** Placeholder of the value in help, e.g. PATH. */
  value?: string;
  description: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
  complete?: Completion;
  hidden?: boolean;
}

export interface ArgSpec {
  name: string;
  required: boolean;
  variadic?: boolean;
  complete?: Completion;
  choices?: readonly string[];
}

export interface CommandModule {
  run(ctx: CommandContext): Promise<number>;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Paragraphs shown by `anvil help COMMAND` below the usage line. */
  details?: string[];
  args: ArgSpec[];
  flags: FlagSpec[];
  /** Talks to the Kubernetes API (the cluster flags apply). */
  cluster: boolean;
  examples?: string[];
  hidden?: boolean;
  load: () => Promise<CommandModule>;
}

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
