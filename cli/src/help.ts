// Help text, generated from the declaration in spec.ts: every column aligned, descriptions wrapped to the terminal.
import { argUsage } from './argv.js';
import { COMMANDS, GLOBAL_FLAGS, ROOT_FLAGS, type CommandSpec, type FlagSpec } from './spec.js';

const DEFAULT_WIDTH = 100;

/** Two aligned columns; the second wraps within `width`, its continuation lines under its start. */
export function columns(rows: readonly (readonly [string, string])[], width = DEFAULT_WIDTH, indent = 2): string[] {
  const left = Math.max(0, ...rows.map(([l]) => l.length));
  const start = indent + left + 3;
  const room = Math.max(30, width - start);
  const lines: string[] = [];
  for (const [l, r] of rows) {
    const wrapped = wrap(r, room);
    lines.push(`${' '.repeat(indent)}${l.padEnd(left)}   ${wrapped[0] ?? ''}`.trimEnd());
    for (const more of wrapped.slice(1)) lines.push(`${' '.repeat(start)}${more}`);
  }
  return lines;
}

export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

const flagLeft = (f: FlagSpec): string => `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.value ? ` ${f.value}` : ''}`;

/** Flag sections sharing one column width, so that both tables line up. */
function flagSections(sections: readonly (readonly [string, readonly FlagSpec[]])[], width: number): string[] {
  const visible = sections.map(([title, flags]) => [title, flags.filter((f) => !f.hidden)] as const).filter(([, flags]) => flags.length);
  const left = Math.max(...visible.flatMap(([, flags]) => flags.map((f) => flagLeft(f).length)));
  const out: string[] = [];
  for (const [title, flags] of visible) {
    out.push('', `${title}:`, ...columns(flags.map((f) => [flagLeft(f).padEnd(left), f.description] as const), width));
  }
  return out;
}

export const commandUsage = (c: CommandSpec): string => [c.name, ...c.args.map((a) => argUsage(a.name, a.required, a.variadic))].join(' ');

export function rootHelp(program: string, width = DEFAULT_WIDTH): string {
  const commands = COMMANDS.filter((c) => !c.hidden);
  return [
    `${program}: the command line of anvil, which installs bare-metal machines (BareMetalHosts) over the network.`,
    '',
    'Usage:',
    `  ${program} COMMAND [ARGUMENTS] [flags]`,
    '',
    'Commands:',
    ...columns(commands.map((c) => [commandUsage(c), c.summary] as const), width),
    ...flagSections([['Flags', ROOT_FLAGS], ['Global flags (every command)', GLOBAL_FLAGS]], width),
    '',
    `Run '${program} help COMMAND' or '${program} COMMAND --help' for a command's flags and examples. Exit codes: docs/cli.md.`,
    '',
  ].join('\n');
}

export function commandHelp(c: CommandSpec, program: string, width = DEFAULT_WIDTH): string {
  return [
    `${c.summary}.`,
    '',
    'Usage:',
    `  ${program} ${commandUsage(c)} [flags]`,
    ...(c.details ?? []).flatMap((p) => ['', ...wrap(p, width)]),
    ...flagSections([['Flags', c.flags], ['Global flags', GLOBAL_FLAGS]], width),
    ...(c.examples?.length ? ['', 'Examples:', ...c.examples.map((e) => `  ${e.replace(/^anvil /, `${program} `)}`)] : []),
    '',
  ].join('\n');
}

/** The help's width: the terminal's when there is one, else 100 columns. */
export const helpWidth = (): number => Math.max(60, Math.min(120, process.stdout.isTTY ? process.stdout.columns || DEFAULT_WIDTH : DEFAULT_WIDTH));
