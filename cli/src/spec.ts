// The one declaration of anvil's commands and flags. The parser (argv.ts), the help (help.ts), shell completion
// (commands/completion.ts) and docs/cli.md's tables all follow it; a command's code is imported only when it runs.
import type { CommandSpec, FlagSpec } from './command.js';

export type { ArgSpec, CommandModule, CommandSpec, Completion, FlagSpec, FlagType } from './command.js';

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', value: 'PATH', complete: 'files', description: 'kubeconfig file (default: the files in KUBECONFIG, else ~/.kube/config, else the pod\'s service account)' },
  { name: 'context', type: 'string', value: 'NAME', complete: 'contexts', description: 'kubeconfig context to use (default: its current-context)' },
  { name: 'namespace', short: 'n', type: 'string', value: 'NS', complete: 'namespaces', description: 'namespace (default: the context\'s namespace, else "default")' },
  { name: 'request-timeout', type: 'duration', value: 'DURATION', description: 'give up on an API request after this long, e.g. 10s or 2m; 0 waits forever (default 30s)' },
  { name: 'help', short: 'h', type: 'boolean', description: 'show help for the command' },
];

/** Flags of the bare `anvil` command only. */
export const ROOT_FLAGS: readonly FlagSpec[] = [{ name: 'version', type: 'boolean', description: 'print the version and exit' }];

const output = (formats: readonly string[]): FlagSpec => ({
  name: 'output',
  short: 'o',
  type: 'string',
  value: 'FORMAT',
  choices: formats,
  complete: 'choices',
  description: `output format: ${formats.join(', ')} (default: a table or text)`,
});

const historyApi: FlagSpec = {
  name: 'api',
  type: 'string',
  value: 'URL',
  complete: 'none',
  description: 'base URL of the install-history API (the boot-server\'s or the operator\'s), e.g. http://boot-server:8080',
};

const bootServerUrl: FlagSpec = {
  name: 'boot-server-url',
  type: 'string',
  value: 'URL',
  complete: 'none',
  description: 'the boot-server URL machines use, as the operator\'s --boot-server-url (default: taken from the published boot config, else BOOT_SERVER_URL)',
};

const HOSTS_OUTPUTS = ['wide', 'json', 'yaml', 'name'] as const;

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'hosts',
    summary: 'List BareMetalHosts: state, MAC, template, progress, attempt',
    details: [
      'Without NAME, every host of the namespace (-A: of all namespaces). -w prints the table, then one line for each change of a row, until interrupted.',
    ],
    args: [{ name: 'NAME', required: false, variadic: true, complete: 'hosts' }],
    flags: [
      { name: 'all-namespaces', short: 'A', type: 'boolean', description: 'list hosts of every namespace' },
      { name: 'selector', short: 'l', type: 'string', value: 'SELECTOR', complete: 'none', description: 'label selector, e.g. rack=r1,role!=db' },
      output(HOSTS_OUTPUTS),
      { name: 'watch', short: 'w', type: 'boolean', description: 'after the list, print a line for each change until interrupted' },
      { name: 'output-watch-events', type: 'boolean', description: 'with -w: start each line with the event (ADDED, MODIFIED, DELETED)' },
      { name: 'no-headers', type: 'boolean', description: 'print the table without its header line' },
    ],
    cluster: true,
    examples: ['anvil hosts -A', 'anvil hosts -w', 'anvil hosts node-01 -o yaml', 'anvil hosts -l rack=r1 -o wide'],
    load: () => import('./commands/hosts.js'),
  },
  {
    name: 'logs',
    summary: 'Print the timeline of HOST\'s install: boot requests, installer events, result',
    details: [
      'From the host\'s status by default: its boot requests, state changes and the installer\'s latest event at each change. With --api, every installer event from the install-history API.',
      '-f follows the install live until the host settles: the attempt has a result the operator has acted on, and no retry or reinstall is pending (a pending one is waited for and followed). With --api, -f follows the newest installation until its result. The exit code is then 0 for SUCCESS, 1 for FAIL.',
    ],
    args: [{ name: 'HOST', required: true, complete: 'hosts' }],
    flags: [
      { name: 'follow', short: 'f', type: 'boolean', description: 'follow the install live until it has a result (exit code 0 for SUCCESS, 1 for FAIL)' },
      historyApi,
      { name: 'poll-interval', type: 'duration', value: 'DURATION', description: 'with --api -f: how often to ask the history API for new events (default 1s)' },
    ],
    cluster: true,
    examples: ['anvil logs node-01', 'anvil reinstall node-01 && anvil logs node-01 -f', 'anvil logs node-01 -f --api http://boot-server:8080'],
    load: () => import('./commands/logs.js'),
  },
  {
    name: 'render',
    summary: 'Print what HOST would receive now (iPXE script, user-data, meta-data...), secrets masked',
    details: ['Renders the host\'s template chain with its variables and Secrets exactly as the operator would. Secret values are masked, the per-install token is shown as TOKEN. Nothing is changed in the cluster.'],
    args: [{ name: 'HOST', required: true, complete: 'hosts' }],
    flags: [bootServerUrl, output(['json', 'yaml'])],
    cluster: true,
    examples: ['anvil render node-01', 'anvil render node-01 -o json'],
    load: () => import('./commands/render.js'),
  },
  {
    name: 'diff',
    summary: 'Show what a re-render of HOST would change in its published boot config',
    details: [
      'Renders HOST again for the attempt its published boot config belongs to (same installation, token and password salts) and compares each file with the published one: boot.ipxe, user-data, meta-data, network-config, vendor-data, assets and template. This is what the operator would publish if it rendered the host now, e.g. after a template was edited.',
      'Exit code 0: no differences; 1: differences (or the render fails). A host that boots from its local disk has nothing rendered published: diff says so and exits 0.',
    ],
    args: [{ name: 'HOST', required: true, complete: 'hosts' }],
    flags: [bootServerUrl],
    cluster: true,
    examples: ['anvil diff node-01'],
    load: () => import('./commands/diff.js'),
  },
  {
    name: 'revisions',
    summary: "List an AutoinstallTemplate's revisions, or diff two of them",
    details: [
      'Each valid content of the template\'s resolved chain (its base templates and includes too) is a revision, numbered, kept immutable in a ControllerRevision owned by the template; the last 10 are kept (status.revisions).',
      'With FROM and TO, prints the unified diff of the chain\'s specs between the two revisions. Exit code 0: the same content; 1: differences.',
    ],
    args: [
      { name: 'TEMPLATE', required: true, complete: 'none' },
      { name: 'FROM', required: false, complete: 'none' },
      { name: 'TO', required: false, complete: 'none' },
    ],
    flags: [],
    cluster: true,
    examples: ['anvil revisions ubuntu-2404', 'anvil revisions ubuntu-2404 3 4'],
    load: () => import('./commands/revisions.js'),
  },
  {
    name: 'rollout',
    summary: "Show an AutoinstallTemplate's rollout, approve its waiting revision, or roll a kept revision out",
    details: [
      'For a template with spec.rollout: the phase, the revision rolling out and the one before, the change the diff gate read, the waves (> the current one), health checks and the latest decisions (status.rollout).',
      '--approve sets spec.rollout.approvedRevision to the revision waiting in AwaitingApproval. --to REVISION sets spec.rollout.revision: that kept revision rolls out in waves instead of the newest (a manual rollback); --to newest removes it. With GitOps, make the change in Git instead.',
    ],
    args: [{ name: 'TEMPLATE', required: true, complete: 'none' }],
    flags: [
      { name: 'approve', type: 'boolean', description: 'approve the revision waiting for approval' },
      { name: 'to', type: 'string', value: 'REVISION', complete: 'none', description: 'roll this kept revision out (a number from anvil revisions), or "newest"' },
      historyApi,
      output(['json', 'yaml']),
    ],
    cluster: true,
    examples: ['anvil rollout ubuntu-2404', 'anvil rollout ubuntu-2404 --approve', 'anvil rollout ubuntu-2404 --to 3'],
    load: () => import('./commands/rollout.js'),
  },
  {
    name: 'reinstall',
    summary: 'Ask for a reinstall of HOST: bump spec.provisioning.revision',
    details: ['With GitOps (Argo CD, Flux), change the revision in Git instead: a sync would revert this.'],
    args: [{ name: 'HOST', required: true, complete: 'hosts' }],
    flags: [{ name: 'dry-run', type: 'boolean', description: 'show the new revision without changing anything (server-side dry run)' }],
    cluster: true,
    examples: ['anvil reinstall node-01'],
    load: () => import('./commands/reinstall.js'),
  },
  {
    name: 'history',
    summary: 'Print HOST\'s install history: attempts, results, installer phases with durations',
    details: ['Reads the install-history API (--api) or its database (--database-url, or --data-dir for the embedded one); needs no kubeconfig.'],
    args: [{ name: 'HOST', required: true, complete: 'hosts' }],
    flags: [
      historyApi,
      { name: 'database-url', type: 'string', value: 'URL', complete: 'none', description: 'read the history database directly: postgres://...' },
      { name: 'data-dir', type: 'string', value: 'DIR', complete: 'files', description: 'read an embedded (PGlite) history directory; stop the process that owns it first' },
      { name: 'limit', type: 'int', value: 'N', min: 1, max: 1000, description: 'installations to show, newest ones (default 10)' },
      { name: 'depth', type: 'int', value: 'N', min: 0, max: 100, description: 'installer phase nesting to show (default 3; 0 hides phases)' },
      output(['json', 'yaml']),
    ],
    cluster: false,
    examples: ['anvil history node-01 --api http://boot-server:8080', 'anvil history node-01 --database-url postgres://anvil@db/anvil --limit 3'],
    load: () => import('./commands/history.js'),
  },
  {
    name: 'validate',
    summary: 'Check AutoinstallTemplates in files offline: chains resolve, every template compiles',
    args: [{ name: 'FILE', required: true, variadic: true, complete: 'files' }],
    flags: [],
    cluster: false,
    examples: ['anvil validate examples/ubuntu/*.yaml'],
    load: () => import('./commands/validate.js'),
  },
  {
    name: 'completion',
    summary: 'Print a shell completion script (bash or zsh)',
    details: [
      'bash: source <(anvil completion bash), or save it to /etc/bash_completion.d/anvil.',
      'zsh: anvil completion zsh > "${fpath[1]}/_anvil" (then start a new shell).',
      'kubectl anvil: link kubectl_complete-anvil to this program on your PATH; kubectl\'s own completion then completes `kubectl anvil` too.',
    ],
    args: [{ name: 'SHELL', required: true, complete: 'choices', choices: ['bash', 'zsh'] }],
    flags: [],
    cluster: false,
    examples: ['source <(anvil completion bash)'],
    load: () => import('./commands/completion.js'),
  },
  {
    name: 'version',
    summary: 'Print the version of anvil',
    args: [],
    flags: [output(['json', 'yaml'])],
    cluster: false,
    load: () => import('./commands/version.js'),
  },
  {
    name: 'help',
    summary: 'Show help for anvil or for one command',
    args: [{ name: 'COMMAND', required: false, complete: 'commands' }],
    flags: [],
    cluster: false,
    load: () => import('./commands/help.js'),
  },
  {
    name: '__complete',
    summary: 'Completion candidates for the words given (used by the completion scripts)',
    args: [{ name: 'WORD', required: false, variadic: true }],
    flags: [],
    cluster: false,
    hidden: true,
    load: () => import('./commands/complete.js'),
  },
];

export const findCommand = (name: string): CommandSpec | undefined => COMMANDS.find((c) => c.name === name);

/** The flags a command accepts: its own, then the global ones. */
export const flagsOf = (command: CommandSpec | undefined): FlagSpec[] => (command ? [...command.flags, ...GLOBAL_FLAGS] : [...ROOT_FLAGS, ...GLOBAL_FLAGS]);
