// `anvil __complete WORD...`: the completion candidates for the last word, from the declaration in spec.ts, in the
// format of cobra (kubectl's command library): one candidate per line (`value<TAB>description`), then `:DIRECTIVE`.
// The scripts of `anvil completion` call it, and so does kubectl's own completion for `kubectl anvil` when
// kubectl_complete-anvil is this program.
import { loadKubeconfig, resolveClusterAccess } from '../kubeconfig.js';
import { CoreResources, type KubeObject } from '@anvil/core/kube';
import { EXIT } from '../errors.js';
import type { CommandContext } from '../context.js';
import { BareMetalHostResource } from '../resources.js';
import { COMMANDS, findCommand, flagsOf, type CommandSpec, type Completion, type FlagSpec } from '../spec.js';

/** cobra's ShellCompDirective bits. */
export const DIRECTIVE = { default: 0, noSpace: 2, noFileComp: 4 } as const;

interface Candidates {
  values: [string, string][];
  directive: number;
}

const LOOKUP_TIMEOUT_MS = 3000;

async function clusterNames(kind: 'hosts' | 'namespaces', flags: Map<string, string>): Promise<string[]> {
  try {
    const access = resolveClusterAccess({ ...(flags.get('kubeconfig') ? { kubeconfig: flags.get('kubeconfig')! } : {}), ...(flags.get('context') ? { context: flags.get('context')! } : {}) });
    const { HttpKubeClient } = await import('../kube-http.js');
    const client = new HttpKubeClient(access, { timeoutMs: LOOKUP_TIMEOUT_MS, userAgent: 'anvil-cli-completion' });
    try {
      const list = kind === 'hosts'
        ? await client.list<KubeObject>(BareMetalHostResource, { namespace: flags.get('namespace') ?? access.namespace })
        : await client.list<KubeObject>(CoreResources.namespace);
      return list.items.map((o) => o.metadata.name ?? '').filter(Boolean).sort();
    } finally {
      client.close();
    }
  } catch {
    return [];
  }
}

async function valuesFor(kind: Completion | undefined, choices: readonly string[] | undefined, flags: Map<string, string>): Promise<Candidates> {
  switch (kind) {
    case 'files':
      return { values: [], directive: DIRECTIVE.default };
    case 'choices':
      return { values: (choices ?? []).map((c) => [c, '']), directive: DIRECTIVE.noFileComp };
    case 'commands':
      return { values: COMMANDS.filter((c) => !c.hidden).map((c) => [c.name, c.summary]), directive: DIRECTIVE.noFileComp };
    case 'hosts':
    case 'namespaces':
      return { values: (await clusterNames(kind, flags)).map((n) => [n, '']), directive: DIRECTIVE.noFileComp };
    case 'contexts':
      try {
        return { values: [...loadKubeconfig(flags.get('kubeconfig') ? { kubeconfig: flags.get('kubeconfig')! } : {}).contexts.keys()].map((n) => [n, '']), directive: DIRECTIVE.noFileComp };
      } catch {
        return { values: [], directive: DIRECTIVE.noFileComp };
      }
    default:
      return { values: [], directive: DIRECTIVE.noFileComp };
  }
}

/** Candidates for the last of `words` (the words after the program name; the last one may be empty). */
export async function candidates(words: readonly string[]): Promise<Candidates> {
  const current = words.at(-1) ?? '';
  let command: CommandSpec | undefined;
  let positionals = 0;
  let pending: FlagSpec | undefined;
  const flags = new Map<string, string>();
  for (const word of words.slice(0, -1)) {
    if (pending) {
      flags.set(pending.name, word);
      pending = undefined;
      continue;
    }
    if (word.startsWith('-') && word !== '-') {
      const [name, value] = word.startsWith('--') ? [word.slice(2).split('=')[0]!, word.includes('=') ? word.slice(word.indexOf('=') + 1) : undefined] : [word.slice(1, 2), word.length > 2 ? word.slice(2).replace(/^=/, '') : undefined];
      const flag = flagsOf(command).find((f) => (word.startsWith('--') ? f.name === name : f.short === name));
      if (flag && flag.type !== 'boolean') {
        if (value === undefined) pending = flag;
        else flags.set(flag.name, value);
      }
      continue;
    }
    if (!command) command = findCommand(word);
    else positionals++;
  }
  const known = flagsOf(command).filter((f) => !f.hidden);
  let result: Candidates;
  let prefix = '';
  let typed = current;
  if (pending) {
    result = await valuesFor(pending.complete ?? (pending.choices ? 'choices' : undefined), pending.choices, flags);
  } else if (current.startsWith('--') && current.includes('=')) {
    const name = current.slice(2, current.indexOf('='));
    const flag = known.find((f) => f.name === name);
    prefix = current.slice(0, current.indexOf('=') + 1);
    typed = current.slice(prefix.length);
    result = flag ? await valuesFor(flag.complete ?? (flag.choices ? 'choices' : undefined), flag.choices, flags) : { values: [], directive: DIRECTIVE.noFileComp };
  } else if (current.startsWith('-')) {
    result = { values: known.map((f) => [`--${f.name}`, f.description]), directive: DIRECTIVE.noFileComp };
  } else if (!command) {
    result = await valuesFor('commands', undefined, flags);
  } else {
    const spec = command.args[positionals] ?? (command.args.at(-1)?.variadic ? command.args.at(-1) : undefined);
    result = spec ? await valuesFor(spec.complete, spec.choices, flags) : { values: [], directive: DIRECTIVE.noFileComp };
  }
  return { values: result.values.filter(([v]) => v.startsWith(typed)).map(([v, d]) => [prefix + v, d]), directive: result.directive };
}

export async function complete(words: readonly string[], _program: string, _signal: AbortSignal): Promise<number> {
  const { values, directive } = await candidates(words.length ? words : ['']);
  process.stdout.write([...values.map(([v, d]) => (d ? `${v}\t${d}` : v)), `:${directive}`].join('\n') + '\n');
  return EXIT.ok;
}

export async function run(ctx: CommandContext): Promise<number> {
  return complete(ctx.args, ctx.program, ctx.signal);
}
