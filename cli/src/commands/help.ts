// anvil help [COMMAND]
import { UsageError } from '../errors.js';
import { commandHelp, helpWidth, rootHelp } from '../help.js';
import type { CommandContext } from '../context.js';
import { COMMANDS, findCommand } from '../spec.js';
import { didYouMean } from '../suggest.js';

export async function run(ctx: CommandContext): Promise<number> {
  const name = ctx.args[0];
  if (!name) {
    ctx.out(rootHelp(ctx.program, helpWidth()));
    return 0;
  }
  const command = findCommand(name);
  if (!command || command.hidden) {
    throw new UsageError(`unknown command "${name}" for "${ctx.program}"${didYouMean(name, COMMANDS.filter((c) => !c.hidden).map((c) => c.name))}`, `Run '${ctx.program} help' for the list of commands.`);
  }
  ctx.out(commandHelp(command, ctx.program, helpWidth()));
  return 0;
}
