// anvil render HOST: everything HOST would receive if it were installed now, rendered as the operator renders it,
// with Secret values masked and the per-install token shown as TOKEN. Changes nothing.
import { bootConfigSecretName, fromSecret } from '@anvil/core/bootconfig';
import { CoreResources } from '@anvil/core/kube';
import { EXIT } from '../errors.js';
import { flagString, type CommandContext } from '../context.js';
import { getHost } from '../hosts-lookup.js';
import { bootServerOf, masked, renderHost, secretValuesOf } from '../host-render.js';
import { formatObject } from '../output.js';

/** Files shown in the text output, in this order; `template` goes into the header instead. */
const SHOWN = ['boot.ipxe', 'user-data', 'meta-data', 'network-config', 'vendor-data', 'assets'];

export async function run(ctx: CommandContext): Promise<number> {
  const cluster = await ctx.cluster();
  const host = await getHost(cluster, ctx.args[0]!);
  const ref = `${cluster.namespace}/${host.metadata.name}`;
  const secret = await cluster.client.get(CoreResources.secret, { namespace: cluster.namespace, name: bootConfigSecretName(host.metadata.name!) });
  const published = secret ? fromSecret(secret) : undefined;
  const bootServerURL = flagString(ctx.flags, 'boot-server-url') ?? bootServerOf(published) ?? process.env.BOOT_SERVER_URL ?? 'http://BOOT-SERVER';
  const ci = host.status?.currentInstall;
  const result = await renderHost(cluster, host, { revision: host.spec.provisioning?.revision ?? 0, attempt: ci?.attempt ?? 1, installationId: ci?.installationId ?? 'preview', token: 'TOKEN' }, bootServerURL);
  if (!result.ok) {
    ctx.warn(`cannot render ${ref}: ${result.reason}: ${result.message}`);
    return EXIT.negative;
  }
  const secrets = await secretValuesOf(cluster, host);
  const files = new Map([...result.files].map(([name, text]) => [name, masked(text, secrets, '', '')]));
  const format = flagString(ctx.flags, 'output');
  if (format === 'json' || format === 'yaml') {
    ctx.out(formatObject({ host: ref, templateChain: result.rendered.templateChain, contentHash: result.rendered.contentHash, bootServerURL, files: Object.fromEntries(files) }, format));
    return EXIT.ok;
  }
  ctx.out(`# template chain: ${result.rendered.templateChain.join(' -> ')}\n# content hash: ${result.rendered.contentHash}\n# secrets are masked; the per-install token is shown as TOKEN`);
  for (const name of SHOWN) {
    const text = files.get(name);
    if (text !== undefined) ctx.out(`--- ${name}\n${text}`);
  }
  return EXIT.ok;
}
