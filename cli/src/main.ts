#!/usr/bin/env node
// anvil: the command line. Installed as `anvil` and as `kubectl-anvil` (so that `kubectl anvil ...` works); bundled
// into dist/cli by `npm run build:cli` (build.ts), which scripts/anvil runs when the bundle is missing or stale.
// Commands are declared once in spec.ts; each one's code is loaded only when it runs.
import './node-version.js';
import { basename } from 'node:path';
import { ApiError } from '@anvil/core/kube';
import { checkArgs, parseCommandLine } from './argv.js';
import type { Cluster, CommandContext } from './context.js';
import { CliError, EXIT } from './errors.js';
import { commandHelp, helpWidth, rootHelp } from './help.js';
import { anvilVersion } from './version.js';

/** `kubectl anvil` when run as the kubectl plugin (kubectl-anvil), else `anvil`. */
function programName(): string {
  if (process.env.ANVIL_PROGRAM) return process.env.ANVIL_PROGRAM;
  return basename(process.argv[1] ?? '').startsWith('kubectl') ? 'kubectl anvil' : 'anvil';
}

/** kubectl's plugin completion calls `kubectl_complete-anvil ARGS...`: the same as `anvil __complete ARGS...`. */
const completionShim = (): boolean => basename(process.argv[1] ?? '') === 'kubectl_complete-anvil';

function describeError(err: unknown): { message: string; code: number } {
  if (err instanceof CliError) return { message: err.hint ? joinHint(err.message, err.hint) : err.message, code: err.exitCode };
  if (err instanceof ApiError) {
    if (err.code === 403) return { message: joinHint(err.message, 'Your user lacks the RBAC permission for this (docs/cli.md, "Permissions").'), code: EXIT.request };
    if (err.code === 404 && !(err.details as { name?: string } | undefined)?.name) {
      return { message: joinHint(`the cluster does not serve anvil's resources (${err.message})`, "Are anvil's CRDs installed? kubectl apply -f crds/ (or install the Helm chart)."), code: EXIT.request };
    }
    return { message: err.message, code: EXIT.request };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message: `internal error: ${message}${process.env.ANVIL_DEBUG && err instanceof Error && err.stack ? `\n${err.stack}` : ' (ANVIL_DEBUG=1 prints where; please report it)'}`, code: EXIT.internal };
}

const joinHint = (message: string, hint: string): string => `${message}${/[.?!]$/.test(message) ? '' : '.'} ${hint}`;

async function main(argv: readonly string[], program: string, abort: AbortController): Promise<number> {
  // Completion gets the words as typed, half-written flags included: they are its input, not flags of its own.
  if (completionShim() || argv[0] === '__complete') {
    const { complete } = await import('./commands/complete.js');
    return complete(completionShim() ? argv : argv.slice(1), program, abort.signal);
  }
  const line = parseCommandLine(argv, program);
  const width = helpWidth();
  const write = (text: string): void => void process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
  const command = line.command;
  if (!command) {
    if (line.flags.version) {
      write(`anvil ${anvilVersion()}`);
      return EXIT.ok;
    }
    write(rootHelp(program, width));
    return EXIT.ok;
  }
  if (line.flags.help) {
    write(commandHelp(command, program, width));
    return EXIT.ok;
  }
  checkArgs(command, line.args, program);
  const { flags } = line;
  const loadOptions = {
    ...(typeof flags.kubeconfig === 'string' ? { kubeconfig: flags.kubeconfig } : {}),
    ...(typeof flags.context === 'string' ? { context: flags.context } : {}),
  };
  let cluster: Promise<Cluster> | undefined;
  const ctx: CommandContext = {
    program,
    command,
    args: line.args,
    flags,
    out: write,
    warn: (text) => void process.stderr.write(`${program}: ${text}\n`),
    cluster: () =>
      (cluster ??= (async () => {
        const { resolveClusterAccess } = await import('./kubeconfig.js');
        const access = resolveClusterAccess(loadOptions);
        const { HttpKubeClient } = await import('./kube-http.js');
        const timeoutMs = typeof flags['request-timeout'] === 'number' ? flags['request-timeout'] : 30_000;
        const client = new HttpKubeClient(access, { timeoutMs, userAgent: `anvil-cli/${anvilVersion()}` });
        return { client, access, namespace: typeof flags.namespace === 'string' ? flags.namespace : access.namespace };
      })()),
    namespace: async () => (typeof flags.namespace === 'string' ? flags.namespace : (await import('./kubeconfig.js')).defaultNamespace(loadOptions)),
    signal: abort.signal,
    version: anvilVersion(),
  };
  const module = await command.load();
  return module.run(ctx);
}

const abort = new AbortController();
const program = programName();
// Reading stops (`anvil hosts -w | head`): stop quietly, like kubectl.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  abort.abort('closed');
  process.exit(EXIT.ok);
});
process.on('SIGINT', () => {
  abort.abort('interrupted');
  // Watching commands return as soon as the signal fires; one waiting on a request is stopped here.
  setTimeout(() => process.exit(EXIT.interrupted), 100).unref();
});

main(process.argv.slice(2), program, abort).then(
  (code) => process.exit(abort.signal.aborted && abort.signal.reason === 'interrupted' ? EXIT.interrupted : code),
  (err: unknown) => {
    if (abort.signal.aborted) process.exit(abort.signal.reason === 'interrupted' ? EXIT.interrupted : EXIT.ok);
    const { message, code } = describeError(err);
    process.stderr.write(`${program}: ${message}\n`);
    process.exit(code);
  },
);
