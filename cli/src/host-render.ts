// Renders a host as the operator does (its render-host and ports, in a sandboxed worker process) and lays out the
// result as the files the boot config holds, for `anvil render` and `anvil diff`. Loaded only by those commands.
import type { AutoinstallTemplate, InstallerKind } from '@anvil/core/api';
import { assetURL, type BootConfig, installScript, usesNoCloud } from '@anvil/core/bootconfig';
import { CoreResources, type KubeObject } from '@anvil/core/kube';
import { HOST_MAC_INDEX, KubeHostPorts, hostMacIndex, makeHostRender, maskSecrets, ProcessRenderer, type InstallIdentity, type RenderedHost, type SecretValues } from '@anvil/operator';
import type { Cluster } from './context.js';
import { AutoinstallTemplateResource } from './resources.js';
import { StaticReader } from './static-reader.js';
import type { Host } from './table.js';

/** A boot config's files by name, in the order they are shown. */
export type BootFiles = Map<string, string>;

export type HostRenderResult = { ok: true; rendered: RenderedHost; files: BootFiles } | { ok: false; reason: string; message: string };

const hostRef = (h: Host): string => `${h.metadata.namespace}/${h.metadata.name}`;

type Artifact = { url: string; sha256: string };

/** What an installer kind receives besides its boot script, as in the operator's render and the published config. */
interface InstallerOutput {
  installer?: InstallerKind | undefined;
  userData: string;
  metaData: string;
  networkConfig?: string | undefined;
  vendorData?: string | undefined;
  ignition?: string | undefined;
  preseed?: string | undefined;
}

/** The installer's files by the name it fetches them under: the NoCloud seed, the Ignition config or the preseed file. */
function installerFiles(o: InstallerOutput): [string, string][] {
  const files: [string, string][] = [];
  if (usesNoCloud(o.installer)) {
    files.push(['user-data', o.userData], ['meta-data', o.metaData]);
    if (o.networkConfig !== undefined) files.push(['network-config', o.networkConfig]);
    if (o.vendorData !== undefined) files.push(['vendor-data', o.vendorData]);
  }
  if (o.ignition !== undefined) files.push(['ignition.json', o.ignition]);
  if (o.preseed !== undefined) files.push(['preseed.cfg', o.preseed]);
  return files;
}

function assetsFile(a: { kernel: Artifact; initrd: Artifact; iso?: Artifact | undefined }): string {
  const entries: [string, Artifact][] = [['kernel', a.kernel], ['initrd', a.initrd], ...(a.iso ? [['iso', a.iso] as [string, Artifact]] : [])];
  return entries.map(([k, v]) => `${k}: ${v.url} sha256:${v.sha256}`).join('\n') + '\n';
}

export async function renderHost(cluster: Cluster, host: Host, identity: InstallIdentity, bootServerURL: string): Promise<HostRenderResult> {
  const templates = await cluster.client.list<AutoinstallTemplate & KubeObject>(AutoinstallTemplateResource, { namespace: host.metadata.namespace! });
  const renderer = new ProcessRenderer();
  try {
    const render = makeHostRender({ client: cluster.client, templates: new StaticReader(templates.items), renderer });
    const ports = new KubeHostPorts({ client: cluster.client, hosts: new StaticReader([host], { [HOST_MAC_INDEX]: hostMacIndex }), bootConfigs: new StaticReader([]), recorder: { event() {} }, render, bootServerURL });
    const outcome = await ports.render(host, identity);
    if (!outcome.ok) return { ok: false, reason: outcome.reason, message: outcome.message };
    const r = outcome.rendered;
    const base = bootServerURL.replace(/\/+$/, '');
    const files: BootFiles = new Map([
      ['boot.ipxe', installScript({ hostRef: hostRef(host), revision: identity.revision, attempt: identity.attempt, kernelURL: assetURL(base, r.boot.kernel), initrdURL: assetURL(base, r.boot.initrd), kernelArgs: r.kernelArgs })],
      ...installerFiles(r),
      ['assets', assetsFile(r.boot)],
      ['template', `name: ${r.templateChain.at(-1) ?? host.spec.templateRef?.name ?? ''}\ncontentHash: ${r.contentHash}\n`],
    ]);
    return { ok: true, rendered: r, files };
  } finally {
    await renderer.close();
  }
}

/** The same files from a published boot config (install mode). */
export function publishedFiles(config: BootConfig): BootFiles {
  const i = config.install!;
  return new Map([
    ['boot.ipxe', config.ipxe],
    ...installerFiles(i),
    ['assets', assetsFile(i)],
    ...(i.template ? [['template', `name: ${i.template.name}\ncontentHash: ${i.template.contentHash}\n`] as const] : []),
  ]);
}

/** The boot-server URL the operator rendered a published config with: where its iPXE script loads the kernel from. */
export function bootServerOf(config: BootConfig | undefined): string | undefined {
  return config ? /^kernel (\S+?)\/assets\/[0-9a-f]{64}\//m.exec(config.ipxe)?.[1] : undefined;
}

/** The values of the Secrets the host references, by template variable, for masking what is shown. */
export async function secretValuesOf(cluster: Cluster, host: Host): Promise<SecretValues> {
  const values: Record<string, string | Record<string, string>> = {};
  for (const ref of host.spec.secretRefs ?? []) {
    const secret = await cluster.client.get<KubeObject & { data?: Record<string, string> }>(CoreResources.secret, { namespace: host.metadata.namespace!, name: ref.name });
    const data = Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    if (ref.key) {
      if (data[ref.key] !== undefined) values[ref.variable] = data[ref.key]!;
    } else {
      values[ref.variable] = data;
    }
  }
  return values as SecretValues;
}

/** Masks Secret values and the install token in a file shown to the user. */
export function masked(text: string, secrets: SecretValues, token: string, tokenLabel: string): string {
  const withoutSecrets = maskSecrets(text, secrets);
  return token ? withoutSecrets.split(token).join(tokenLabel) : withoutSecrets;
}
