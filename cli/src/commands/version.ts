// anvil version [-o json|yaml]
import { EXIT } from '../errors.js';
import { flagString, type CommandContext } from '../context.js';
import { formatObject } from '../output.js';

export async function run(ctx: CommandContext): Promise<number> {
  const format = flagString(ctx.flags, 'output');
  if (format === 'json' || format === 'yaml') ctx.out(formatObject({ version: ctx.version, node: process.version }, format));
  else ctx.out(`anvil ${ctx.version}`);
  return EXIT.ok;
}
