// anvil history HOST (--api URL | --database-url URL | --data-dir DIR): the host's install timeline (history.ts).
import { EXIT, RequestError, UsageError } from '../errors.js';
import { flagNumber, flagString, type CommandContext } from '../context.js';
import { readTimeline, renderTimeline } from '../history.js';
import { formatObject } from '../output.js';

export async function run(ctx: CommandContext): Promise<number> {
  const api = flagString(ctx.flags, 'api');
  const databaseUrl = flagString(ctx.flags, 'database-url');
  const dataDir = flagString(ctx.flags, 'data-dir');
  if ([api, databaseUrl, dataDir].filter((v) => v !== undefined).length !== 1) {
    throw new UsageError('history needs exactly one of --api URL, --database-url URL, --data-dir DIR');
  }
  const host = { namespace: await ctx.namespace(), name: ctx.args[0]! };
  const depth = flagNumber(ctx.flags, 'depth') ?? 3;
  let timeline;
  try {
    timeline = await readTimeline({ host, ...(api ? { api } : {}), ...(databaseUrl ? { databaseUrl } : {}), ...(dataDir ? { dataDir } : {}), limit: flagNumber(ctx.flags, 'limit') ?? 10, depth });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = err instanceof TypeError && cause ? `${cause.code ?? cause.message}` : err instanceof Error ? err.message : String(err);
    throw new RequestError(`cannot read the install history${api ? ` at ${api}` : ''}: ${why}`);
  }
  const format = flagString(ctx.flags, 'output');
  if (format === 'json' || format === 'yaml') {
    ctx.out(formatObject({ host: `${host.namespace}/${host.name}`, installations: timeline.map((t) => ({ ...t.installation, phases: t.phases.filter((p) => p.depth < depth) })) }, format));
  } else {
    ctx.out(renderTimeline(host, timeline, depth));
  }
  return EXIT.ok;
}
