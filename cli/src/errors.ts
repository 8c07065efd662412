// What the CLI tells its caller when a command cannot do its job: one line on stderr and an exit code that scripts can
// tell apart (docs/cli.md lists them). Anything else that escapes a command is a bug and is reported as one.

export const EXIT = {
  ok: 0,
  /** The answer is "no": diff found differences, validate found invalid templates, render/install failed. */
  negative: 1,
  /** The command line is wrong: unknown command or flag, missing or extra argument, bad value. */
  usage: 2,
  /** The cluster cannot be used: no kubeconfig, bad kubeconfig, unreachable, credentials refused. */
  cluster: 3,
  /** The request failed: the host (or another object) does not exist, the API refused, a history API error. */
  request: 4,
  /** Something unexpected: the wrong Node.js, or a bug in anvil (the message says which). */
  internal: 5,
  /** Interrupted (SIGINT), as shells report it. */
  interrupted: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** A second line: what to do about it. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.usage, hint);
  }
}

/** No usable cluster configuration, or a cluster that cannot be reached or refuses the credentials. */
export class ClusterError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.cluster, hint);
  }
}

export class RequestError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.request, hint);
  }
}
