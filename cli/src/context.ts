// What a command gets to do its work: its arguments and flags, stdout, the cluster (connected on first use), and a
// signal that fires when the user interrupts or the reader of stdout goes away.
import type { FlagValues } from './command.js';

export type { Cluster, CommandContext } from './command.js';

export const flagString = (flags: FlagValues, name: string): string | undefined => {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
};

export const flagNumber = (flags: FlagValues, name: string): number | undefined => {
  const v = flags[name];
  return typeof v === 'number' ? v : undefined;
};

export const flagBool = (flags: FlagValues, name: string): boolean => flags[name] === true;
