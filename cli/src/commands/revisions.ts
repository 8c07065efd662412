// anvil revisions TEMPLATE [FROM TO]: the revisions of an AutoinstallTemplate's resolved chain (status.revisions),
// and, given two revision numbers, the unified diff of the chain's specs between them, read from their
// ControllerRevisions. Exit 0; with FROM TO, 1 when they differ (as diff does).
import { stringify } from 'yaml';
import { EXIT, RequestError, UsageError } from '../errors.js';
import { type CommandContext } from '../context.js';
import { AutoinstallTemplateResource, ControllerRevisionResource } from '../resources.js';
import { unifiedDiff } from '@anvil/core/text';
import type { KubeObject } from '@anvil/core/kube';

interface Revision {
  revision: number;
  contentHash: string;
  controllerRevision: string;
  createdAt: string;
}
type Template = KubeObject & { status?: { revisions?: Revision[]; contentHash?: string } };
type StoredRevision = KubeObject & { data?: { chain?: string[]; specs?: Record<string, unknown> } };

export async function run(ctx: CommandContext): Promise<number> {
  const cluster = await ctx.cluster();
  const [name, from, to] = ctx.args as [string, string | undefined, string | undefined];
  const namespace = cluster.namespace;
  const template = await cluster.client.get<Template>(AutoinstallTemplateResource, { namespace, name });
  if (!template) throw new RequestError(`no AutoinstallTemplate ${namespace}/${name}`);
  const revisions = template.status?.revisions ?? [];
  if (from === undefined) {
    if (!revisions.length) {
      ctx.warn(`AutoinstallTemplate ${namespace}/${name} has no revisions yet (they are recorded once its chain is valid)`);
      return EXIT.ok;
    }
    const rows = revisions.map((r, i) => [String(r.revision), r.contentHash.replace(/^sha256:/, '').slice(0, 12), r.createdAt, r.controllerRevision, i === 0 ? 'current' : '']);
    const header = ['REVISION', 'CONTENT', 'CREATED', 'CONTROLLERREVISION', ''];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
    for (const row of [header, ...rows]) ctx.out(row.map((cell, c) => cell.padEnd(widths[c]!)).join('   ').trimEnd());
    return EXIT.ok;
  }
  if (to === undefined) throw new UsageError('give two revision numbers to compare, e.g. anvil revisions ubuntu-2404 3 4');
  const side = async (text: string) => {
    const wanted = Number(text);
    const entry = revisions.find((r) => r.revision === wanted);
    if (!Number.isInteger(wanted) || !entry) throw new UsageError(`AutoinstallTemplate ${namespace}/${name} keeps no revision ${text} (kept: ${revisions.map((r) => r.revision).join(', ') || 'none'})`);
    const stored = await cluster.client.get<StoredRevision>(ControllerRevisionResource, { namespace, name: entry.controllerRevision });
    if (!stored?.data) throw new RequestError(`the ControllerRevision ${namespace}/${entry.controllerRevision} of revision ${text} is gone`);
    return { entry, text: stringify({ chain: stored.data.chain, specs: stored.data.specs }, { lineWidth: 0 }) };
  };
  const [a, b] = [await side(from), await side(to)];
  const diff = unifiedDiff(a.text, b.text, `${name} revision ${a.entry.revision} (${a.entry.contentHash.slice(7, 19)})`, `${name} revision ${b.entry.revision} (${b.entry.contentHash.slice(7, 19)})`);
  if (!diff) {
    ctx.out(`revisions ${a.entry.revision} and ${b.entry.revision} of ${namespace}/${name} have the same content`);
    return EXIT.ok;
  }
  ctx.out(diff.trimEnd());
  return EXIT.negative;
}
