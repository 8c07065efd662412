// A process's --help and its flags table in docs/configuration.md, both from the flag declarations (flags.ts).
import { flagsOf, type Flag, type FlagGroups } from './flags.js';

const WIDTH = 120;
/** Synopses (`--name VALUE`) longer than this put their description on the next line. */
const SYNOPSIS_MAX = 32;

const synopsis = (f: Flag<unknown>): string => `--${f.name} ${f.value}`;

/** The flag's help line without its variable: the help, how it repeats, and its default. */
function meaning(f: Flag<unknown>): string {
  const repeats = f.repeatable ? ` (repeatable; env: '${f.repeatable.separator}'-separated)` : '';
  const d = f.shownDefault;
  const fallback = d === undefined ? '' : d.computed ? ` (default: ${d.text})` : ` (default ${d.text})`;
  return `${f.help}${repeats}${fallback}`;
}

export function helpText(title: string, groups: FlagGroups): string {
  const entries = [...flagsOf(groups).map((f) => [synopsis(f), `${meaning(f)}${f.env ? ` [${f.env}]` : ''}`] as const), ['--help', 'print this help'] as const];
  const column = 2 + Math.max(...entries.map(([s]) => s.length).filter((n) => n <= SYNOPSIS_MAX)) + 2;
  const lines = entries.flatMap(([s, description]) => {
    const head = `  ${s}`;
    const wrapped = wrap(description, WIDTH - column);
    const first = head.length + 2 <= column ? [`${head.padEnd(column)}${wrapped.shift()}`] : [head];
    return [...first, ...wrapped.map((l) => `${' '.repeat(column)}${l}`)];
  });
  return `${title}\n\nFlags (environment variable in brackets):\n${lines.join('\n')}\n`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** A markdown table of the flags: flag, environment variable, default, meaning. */
export function flagTable(groups: FlagGroups): string {
  const rows = flagsOf(groups).map((f) => {
    const d = f.shownDefault;
    const fallback = d === undefined ? '' : d.computed ? prose(d.text) : code(d.text);
    const repeats = f.repeatable ? ` Repeatable; the variable separates values with ${code(f.repeatable.separator)}.` : '';
    return `| ${code(synopsis(f))} | ${f.env ? code(f.env) : ''} | ${fallback} | ${prose(f.help)}.${repeats} |`;
  });
  return ['| flag | environment variable | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

// In a table cell a pipe ends the cell, also inside a code span; outside one, <word> would be taken for HTML.
const code = (s: string): string => `\`${s.replaceAll('|', '\\|')}\``;
const prose = (s: string): string => s.replaceAll('|', '\\|').replaceAll('<', '&lt;');

const markers = (id: string): [string, string] => [`<!-- BEGIN generated flags:${id} -->`, `<!-- END generated flags:${id} -->`];

/** `doc` with the generated block `id` replaced by `table`; throws when the doc has no such block. */
export function withFlagTable(doc: string, id: string, table: string): string {
  const [begin, end] = markers(id);
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end, from);
  if (from < 0 || to < 0) throw new Error(`no generated flags block "${id}" (${begin} ... ${end})`);
  return `${doc.slice(0, from + begin.length)}\n${table}\n${doc.slice(to)}`;
}
