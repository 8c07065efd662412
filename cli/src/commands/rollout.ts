// anvil rollout TEMPLATE: where the rollout of an AutoinstallTemplate's revision is (status.rollout: phase, waves,
// health, the latest decisions); --approve approves the revision waiting for approval (spec.rollout.approvedRevision),
// --to REVISION rolls a kept revision out instead of the newest (spec.rollout.revision: a manual rollback), --to newest
// goes back to following the newest. Changes are guarded by the resourceVersion read. With --api the decisions come
// from the install history (every one, with its trigger) rather than the last 50 in status.
import { isConflict, type KubeObject } from '@anvil/core/kube';
import { EXIT, RequestError, UsageError } from '../errors.js';
import { flagBool, flagString, type CommandContext } from '../context.js';
import { formatObject, isoSeconds } from '../output.js';
import { AutoinstallTemplateResource } from '../resources.js';

interface RolloutStatus {
  phase?: string;
  targetRevision?: number;
  previousRevision?: number;
  change?: string[];
  waves?: { hosts: string[] }[];
  wave?: number;
  failedHosts?: string[];
  health?: { host: string; verdict: string; message: string }[];
  message?: string;
  audit?: { time: string; type: string; message: string; hosts?: string[] }[];
}
type Template = KubeObject & {
  spec: { rollout?: { revision?: number; approvedRevision?: number } };
  status?: { revisions?: { revision: number }[]; rollout?: RolloutStatus };
};

const ATTEMPTS = 3;

export async function run(ctx: CommandContext): Promise<number> {
  const cluster = await ctx.cluster();
  const name = ctx.args[0]!;
  const namespace = cluster.namespace;
  const approve = flagBool(ctx.flags, 'approve');
  const to = flagString(ctx.flags, 'to');
  if (approve && to !== undefined) throw new UsageError('give --approve or --to, not both');
  for (let attempt = 1; ; attempt++) {
    const template = await cluster.client.get<Template>(AutoinstallTemplateResource, { namespace, name });
    if (!template) throw new RequestError(`no AutoinstallTemplate ${namespace}/${name}`);
    if (!template.spec.rollout) throw new RequestError(`AutoinstallTemplate ${namespace}/${name} has no spec.rollout: its changes reach a host only when the host's spec.provisioning.revision is bumped`);
    if (!approve && to === undefined) return show(ctx, template, await decisionsFromApi(flagString(ctx.flags, 'api'), namespace, name));
    const rollout = template.status?.rollout;
    let change: Record<string, number | null>;
    let said: string;
    if (approve) {
      if (rollout?.phase !== 'AwaitingApproval' || rollout.targetRevision === undefined) throw new RequestError(`nothing waits for approval: the rollout of ${namespace}/${name} is ${rollout?.phase ?? 'not started'}`);
      change = { approvedRevision: rollout.targetRevision };
      said = `revision ${rollout.targetRevision} approved: it rolls out as spec.rollout says`;
    } else if (to === 'newest') {
      change = { revision: null };
      said = 'following the newest revision again';
    } else {
      const wanted = Number(to);
      const kept = (template.status?.revisions ?? []).map((r) => r.revision);
      if (!Number.isInteger(wanted) || !kept.includes(wanted)) throw new UsageError(`AutoinstallTemplate ${namespace}/${name} keeps no revision ${to} (kept: ${kept.join(', ') || 'none'}); give one of them or "newest"`);
      change = { revision: wanted };
      said = `rolling revision ${wanted} out (spec.rollout.revision); "anvil rollout ${name} --to newest" follows the newest again`;
    }
    try {
      await cluster.client.patch(AutoinstallTemplateResource, { namespace, name }, 'merge', { metadata: { resourceVersion: template.metadata.resourceVersion }, spec: { rollout: change } });
    } catch (err) {
      if (isConflict(err) && attempt < ATTEMPTS) continue;
      throw err;
    }
    ctx.out(`AutoinstallTemplate ${namespace}/${name}: ${said}`);
    if (template.metadata.annotations?.['argocd.argoproj.io/tracking-id'] || template.metadata.labels?.['kustomize.toolkit.fluxcd.io/name']) {
      ctx.warn('warning: this template looks managed by GitOps; make the same change in Git, or the next sync reverts it');
    }
    return EXIT.ok;
  }
}

interface Decision {
  time: string;
  type: string;
  message: string;
  hosts?: string[];
  trigger?: string;
}

/** The template's decisions from the history API, newest first (at most 200), or undefined without --api. */
async function decisionsFromApi(api: string | undefined, namespace: string, name: string): Promise<Decision[] | undefined> {
  if (api === undefined) return undefined;
  const url = `${api.replace(/\/+$/, '')}/api/v1/templates/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/rollout-decisions?limit=200`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' } });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new RequestError(`cannot read the install history at ${api}: ${cause?.code ?? cause?.message ?? String(err)}`);
  }
  const body = (await res.json().catch(() => ({}))) as { items?: Decision[]; message?: string };
  if (!res.ok || !Array.isArray(body.items)) throw new RequestError(`cannot read the install history at ${api}: HTTP ${res.status}${body.message ? `: ${body.message}` : ''}`);
  return body.items;
}

function show(ctx: CommandContext, template: Template, history: Decision[] | undefined): number {
  const rollout = template.status?.rollout;
  const format = flagString(ctx.flags, 'output');
  if (format === 'json' || format === 'yaml') {
    ctx.out(formatObject({ template: `${template.metadata.namespace}/${template.metadata.name}`, policy: template.spec.rollout, rollout: rollout ?? null, ...(history ? { decisions: history } : {}) }, format));
    return EXIT.ok;
  }
  if (!rollout?.phase) {
    ctx.out(`${template.metadata.name}: no rollout yet${rollout?.message ? ` (${rollout.message})` : ''}`);
    return EXIT.ok;
  }
  const lines = [
    `${template.metadata.name}: ${rollout.phase}${rollout.targetRevision !== undefined ? `, revision ${rollout.targetRevision}` : ''}${rollout.previousRevision !== undefined ? ` (from ${rollout.previousRevision})` : ''}`,
    `  ${rollout.message ?? ''}`,
  ];
  if (rollout.change?.length) lines.push(`  change: ${rollout.change.join(', ')}`);
  for (const [i, wave] of (rollout.waves ?? []).entries()) {
    const mark = i === rollout.wave && ['Rolling', 'AwaitingWindow', 'Paused'].includes(rollout.phase) ? '>' : ' ';
    lines.push(`  ${mark} wave ${i + 1}: ${wave.hosts.map((h) => (rollout.failedHosts?.includes(h) ? `${h} (failed)` : h)).join(', ')}`);
  }
  for (const h of rollout.health ?? []) lines.push(`  health ${h.host}: ${h.verdict}, ${h.message}`);
  const decisions: Decision[] = history ?? (rollout.audit ?? []).slice(0, 10);
  if (decisions.length) {
    lines.push(history ? '  decisions from the install history (newest first):' : '  decisions (newest first):');
    for (const a of decisions) lines.push(`    ${isoSeconds(a.time)}  ${a.type.padEnd(16)} ${a.message}${a.hosts?.length ? ` [${a.hosts.join(', ')}]` : ''}${a.trigger ? `  (by ${a.trigger})` : ''}`);
  }
  ctx.out(lines.join('\n'));
  return EXIT.ok;
}
