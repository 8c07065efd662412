// anvil validate FILE...: checks AutoinstallTemplates offline, as the operator would: chains resolve, every template
// compiles. Exit 1 when one is invalid.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { AutoinstallTemplate } from '@anvil/core/api';
import type { KubeObject } from '@anvil/core/kube';
import { EXIT, UsageError } from '../errors.js';
import type { CommandContext } from '../context.js';

function readObjects(files: readonly string[]): KubeObject[] {
  return files.flatMap((f) => {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return parseAllDocuments(text)
      .map((d) => {
        if (d.errors.length) throw new UsageError(`${f}: ${d.errors[0]!.message}`);
        return d.toJS() as KubeObject | null;
      })
      .filter((o): o is KubeObject => !!o);
  });
}

export async function run(ctx: CommandContext): Promise<number> {
  const templates = readObjects(ctx.args).filter((o) => o.kind === 'AutoinstallTemplate') as (AutoinstallTemplate & KubeObject)[];
  if (!templates.length) throw new UsageError('no AutoinstallTemplate found in the given files');
  const { formatProblem, validateTemplateChain } = await import('@anvil/operator');
  let bad = 0;
  for (const t of templates) {
    const lookup = (name: string) => templates.find((x) => x.metadata.name === name && (x.metadata.namespace ?? '') === (t.metadata.namespace ?? ''))?.spec;
    const result = validateTemplateChain(t.metadata.name!, lookup);
    if (result.problems.length) {
      bad++;
      ctx.out(`INVALID ${t.metadata.name}`);
      for (const p of result.problems) ctx.out(`  ${formatProblem(p)}`);
    } else {
      ctx.out(`valid   ${t.metadata.name} (${result.resolved!.chain.join(' -> ')})`);
    }
  }
  return bad ? EXIT.negative : EXIT.ok;
}
