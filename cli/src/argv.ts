// Parses a command line against the declaration in spec.ts, the way kubectl does: flags before or after the
// arguments, --flag=value or --flag value, -n value or -nvalue, grouped short booleans (-Aw), `--` ends the flags.
// Global flags may come before the command, a command's own flags only after it.
import { UsageError } from './errors.js';
import type { CommandSpec, FlagSpec, FlagValue, FlagValues } from './command.js';
import { COMMANDS, findCommand, flagsOf } from './spec.js';
import { didYouMean } from './suggest.js';

export type { FlagValue, FlagValues } from './command.js';

export interface CommandLine {
  /** undefined for the bare program (`anvil`, `anvil --version`). */
  command: CommandSpec | undefined;
  args: string[];
  flags: FlagValues;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "30s", "1m30s", "500ms", "2h", "0"; a bare number is seconds (as kubectl's --request-timeout). Milliseconds. */
export function parseDuration(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let ms = 0;
  for (const [, n, , unit] of text.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * UNITS[unit!]!;
  return Math.round(ms);
}

const visibleCommands = (): string[] => COMMANDS.filter((c) => !c.hidden).map((c) => c.name);

function flagName(flag: FlagSpec): string {
  return flag.short ? `-${flag.short}/--${flag.name}` : `--${flag.name}`;
}

function unknownFlag(typed: string, command: CommandSpec | undefined, program: string): UsageError {
  const where = command ? `"${program} ${command.name}"` : `"${program}"`;
  const known = flagsOf(command).filter((f) => !f.hidden);
  const long = typed.startsWith('--');
  // Single letters are all close to each other: only long names get a "did you mean".
  let hint = long ? didYouMean(typed, known.map((f) => `--${f.name}`), (s) => s) : '';
  if (!hint) {
    const bare = typed.replace(/^-+/, '');
    const owners = COMMANDS.filter((c) => !c.hidden && c !== command && c.flags.some((f) => (long ? f.name === bare : f.short === bare))).map((c) => c.name);
    if (owners.length) hint = command ? ` (it is a flag of ${owners.join(', ')})` : `; a command's flags go after it, e.g. "${program} ${owners[0]} ${typed}"`;
  }
  return new UsageError(`unknown flag ${typed} for ${where}${hint}`, `Run '${program} ${command ? `${command.name} ` : ''}--help' for the flags.`);
}

function convert(flag: FlagSpec, raw: string, command: CommandSpec | undefined, program: string): FlagValue {
  switch (flag.type) {
    case 'boolean':
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw new UsageError(`${flagName(flag)} takes no value or =true/=false, got "${raw}"`);
    case 'int': {
      const n = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n) || (flag.min !== undefined && n < flag.min) || (flag.max !== undefined && n > flag.max)) {
        throw new UsageError(`${flagName(flag)} must be an integer from ${flag.min ?? '-∞'} to ${flag.max ?? '∞'}, got "${raw}"`);
      }
      return n;
    }
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined) throw new UsageError(`${flagName(flag)} must be a duration such as 30s, 2m or 1h30m, got "${raw}"`);
      return ms;
    }
    case 'string':
      if (flag.choices && !flag.choices.includes(raw)) {
        const what = flag.name === 'output' ? 'output format' : `value for ${flagName(flag)}`;
        throw new UsageError(`unknown ${what} "${raw}" for "${program}${command ? ` ${command.name}` : ''}"${didYouMean(raw, flag.choices)} (one of: ${flag.choices.join(', ')})`);
      }
      if (raw === '' && flag.type === 'string') throw new UsageError(`${flagName(flag)} needs a non-empty ${flag.value ?? 'value'}`);
      return raw;
  }
}

/** Parses argv (without the program). Throws UsageError for unknown commands and flags, bad or missing values. */
export function parseCommandLine(argv: readonly string[], program = 'anvil'): CommandLine {
  let command: CommandSpec | undefined;
  let commandSeen = false;
  const args: string[] = [];
  const flags: Record<string, FlagValue> = {};
  let onlyArgs = false;

  const positional = (word: string): void => {
    if (commandSeen) return void args.push(word);
    commandSeen = true;
    command = findCommand(word);
    if (!command) {
      throw new UsageError(`unknown command "${word}" for "${program}"${didYouMean(word, visibleCommands())}`, `Run '${program} help' for the list of commands.`);
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (onlyArgs || word === '-' || !word.startsWith('-')) {
      positional(word);
      continue;
    }
    if (word === '--') {
      onlyArgs = true;
      continue;
    }
    const known = flagsOf(command);
    const takeValue = (flag: FlagSpec, inline: string | undefined, shown: string): string => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) throw new UsageError(`flag ${shown} needs a value (${flag.value ?? flag.type})`);
      return argv[++i]!;
    };
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
      const flag = known.find((f) => f.name === name);
      if (!flag) throw unknownFlag(eq < 0 ? word : word.slice(0, eq), command, program);
      const inline = eq < 0 ? undefined : word.slice(eq + 1);
      flags[flag.name] = flag.type === 'boolean' && inline === undefined ? true : convert(flag, takeValue(flag, inline, `--${name}`), command, program);
      continue;
    }
    // One or more short flags: -A, -Aw, -n NS, -nNS, -n=NS
    for (let j = 1; j < word.length; j++) {
      const flag = known.find((f) => f.short === word[j]);
      if (!flag) throw unknownFlag(`-${word[j]}`, command, program);
      if (flag.type === 'boolean') {
        if (word[j + 1] === '=') {
          flags[flag.name] = convert(flag, word.slice(j + 2), command, program);
          break;
        }
        flags[flag.name] = true;
        continue;
      }
      const rest = word.slice(j + 1).replace(/^=/, '');
      flags[flag.name] = convert(flag, takeValue(flag, rest === '' ? undefined : rest, `-${flag.short}`), command, program);
      break;
    }
  }
  return { command, args, flags };
}

/** Checks the arguments against the command's declaration (after --help has had its chance). */
export function checkArgs(command: CommandSpec, args: readonly string[], program = 'anvil'): void {
  const usage = `Usage: ${program} ${command.name}${command.args.map((a) => ` ${argUsage(a.name, a.required, a.variadic)}`).join('')} [flags]`;
  const required = command.args.filter((a) => a.required);
  if (args.length < required.length) {
    const missing = required[args.length]!;
    throw new UsageError(`${command.name} needs ${/^[AEIOU]/.test(missing.name) ? 'an' : 'a'} ${missing.name}`, usage);
  }
  const variadic = command.args.some((a) => a.variadic);
  if (!variadic && args.length > command.args.length) {
    const extra = args.slice(command.args.length);
    throw new UsageError(`${command.name} takes ${command.args.length ? `one ${command.args.map((a) => a.name).join(' and one ')}` : 'no arguments'}, got also ${extra.map((a) => `"${a}"`).join(' ')}`, usage);
  }
  command.args.forEach((spec, i) => {
    const value = args[i];
    if (value !== undefined && spec.choices && !spec.choices.includes(value)) {
      throw new UsageError(`unknown ${spec.name} "${value}" for "${program} ${command.name}"${didYouMean(value, spec.choices)} (one of: ${spec.choices.join(', ')})`, usage);
    }
  });
}

export const argUsage = (name: string, required: boolean, variadic?: boolean): string => {
  const inner = `${name}${variadic ? '...' : ''}`;
  return required ? inner : `[${inner}]`;
};

