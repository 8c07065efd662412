// anvil diff HOST: what the operator would publish if it rendered HOST now, compared with what it published. The
// render uses the published attempt's identity (installation, attempt, token, hence the same password salts), so
// only real changes show: an edited template, variable or Secret, a new boot-server URL. Exit 0: none; 1: some.
import { bootConfigSecretName, fromSecret } from '@anvil/core/bootconfig';
import { CoreResources } from '@anvil/core/kube';
import { EXIT } from '../errors.js';
import { flagString, type CommandContext } from '../context.js';
import { getHost } from '../hosts-lookup.js';
import { bootServerOf, masked, publishedFiles, renderHost, secretValuesOf } from '../host-render.js';
import { diffHunks } from '@anvil/core/text';

const SECRET_MASK = /<secret:[^>]+>/g;

/**
 * The published side was rendered with the Secret values of its day: a value since changed is not masked by today's.
 * A removed line that matches an added line except where that one shows a mask gets the same masks.
 */
export function maskReplacedSecrets(lines: readonly string[]): string[] {
  const patterns = lines
    .filter((l) => l.startsWith('+') && l.includes('<secret:'))
    .map((l) => {
      const text = l.slice(1);
      const source = text.split(SECRET_MASK).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('(.+?)');
      return { regex: new RegExp(`^${source}$`, 'd'), masks: text.match(SECRET_MASK) ?? [] };
    });
  return lines.map((l) => {
    if (!l.startsWith('-')) return l;
    const text = l.slice(1);
    for (const { regex, masks } of patterns) {
      const m = regex.exec(text);
      if (!m?.indices) continue;
      let out = '';
      let at = 0;
      masks.forEach((mask, i) => {
        const [from, to] = m.indices![i + 1]!;
        out += text.slice(at, from) + mask;
        at = to;
      });
      return `-${out}${text.slice(at)}`;
    }
    return l;
  });
}

export async function run(ctx: CommandContext): Promise<number> {
  const cluster = await ctx.cluster();
  const host = await getHost(cluster, ctx.args[0]!);
  const ref = `${cluster.namespace}/${host.metadata.name}`;
  const state = host.status?.state ?? 'Pending';
  const secret = await cluster.client.get(CoreResources.secret, { namespace: cluster.namespace, name: bootConfigSecretName(host.metadata.name!) });
  const published = secret ? fromSecret(secret) : undefined;
  if (!published) {
    ctx.warn(`no boot config is published for ${ref} (state ${state}): nothing to compare; '${ctx.program} render ${host.metadata.name}' shows what it would receive`);
    return EXIT.ok;
  }
  if (published.mode !== 'install' || !published.install) {
    ctx.warn(`${ref} boots from its local disk (state ${state}): no installer config is published, nothing to compare; '${ctx.program} render ${host.metadata.name}' shows what a reinstall would receive`);
    return EXIT.ok;
  }
  const install = published.install;
  const bootServerURL = flagString(ctx.flags, 'boot-server-url') ?? bootServerOf(published) ?? process.env.BOOT_SERVER_URL ?? 'http://BOOT-SERVER';
  const identity = { revision: install.revision, attempt: install.attempt, installationId: install.installationId, token: install.token };
  const result = await renderHost(cluster, host, identity, bootServerURL);
  if (!result.ok) {
    ctx.out(`# a re-render of ${ref} fails: ${result.reason}: ${result.message}\n# the operator keeps the published boot config and reports this in the host's status`);
    return EXIT.negative;
  }
  const secrets = await secretValuesOf(cluster, host);
  const before = publishedFiles(published);
  const after = result.files;
  let differences = 0;
  for (const name of [...new Set([...after.keys(), ...before.keys()])]) {
    const a = before.get(name) ?? '';
    const b = after.get(name) ?? '';
    if (a === b) continue;
    differences++;
    const hunks = diffHunks(masked(a, secrets, install.token, 'TOKEN'), masked(b, secrets, install.token, 'TOKEN'));
    ctx.out(`--- published/${name}\n+++ rendered/${name}`);
    if (!hunks.length) ctx.out('@@ only masked values differ (a Secret\'s value changed) @@');
    for (const h of hunks) ctx.out([h.header, ...maskReplacedSecrets(h.lines)].join('\n'));
  }
  if (!differences) ctx.warn(`${ref}: no differences (attempt ${install.attempt}, revision ${install.revision})`);
  return differences ? EXIT.negative : EXIT.ok;
}
