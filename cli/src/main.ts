#!/usr/bin/env node
// anvil: the command line (also `kubectl anvil` when installed as kubectl-anvil on PATH).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { AutoinstallTemplate, BareMetalHost } from '../../shared/src/api/index.js';
import { installScript } from '../../shared/src/bootconfig/ipxe.js';
import { assetURL } from '../../shared/src/bootconfig/boot-config.js';
import type { KubeClient, KubeObject } from '../../shared/src/kube/index.js';
import { RestKubeClient, loadKubeConfig } from '../../shared/src/kube/rest-client.js';
import { BareMetalHostType } from '../../operator/src/controllers/baremetalhost/controller.js';
import { HOST_MAC_INDEX, KubeHostPorts, hostMacIndex } from '../../operator/src/controllers/baremetalhost/kube-ports.js';
import { AutoinstallTemplateType, makeHostRender } from '../../operator/src/controllers/baremetalhost/render-host.js';
import { formatProblem, maskSecrets, validateTemplateChain } from '../../operator/src/render/index.js';
import { runHistory } from './history.js';
import { StaticReader } from './static-reader.js';
import { hostsTable } from './table.js';

const USAGE = `usage: anvil <command> [flags]

commands:
  hosts [-n NS | -A]                 list BareMetalHosts: state, MAC, template, progress, attempt
  render HOST [-n NS] [--boot-server-url URL]
                                     print what HOST would receive (user-data, meta-data, kernel args, iPXE), secrets masked
  validate FILE...                   check AutoinstallTemplates offline: chains resolve, every template compiles
  reinstall HOST [-n NS]             ask for a reinstall by bumping spec.provisioning.revision
                                     (with GitOps, change the revision in Git instead: a sync would revert this)
  history HOST [-n NS] (--api URL | --database-url URL | --data-dir DIR) [--limit N] [--depth N]
                                     HOST's install timeline: attempts, results, installer phases with durations

flags: --kubeconfig PATH (default: KUBECONFIG or ~/.kube/config), -n/--namespace NS (default: the context's)
`;

class UsageError extends Error {}

function client(kubeconfig: string | undefined): { client: KubeClient; namespace: string } {
  const kc = loadKubeConfig(kubeconfig);
  const ctx = kc.getContextObject(kc.getCurrentContext());
  return { client: new RestKubeClient(kc, { userAgent: 'anvil-cli' }), namespace: ctx?.namespace || 'default' };
}

function readObjects(files: string[]): KubeObject[] {
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(f, 'utf8'))
      .map((d) => {
        if (d.errors.length) throw new UsageError(`${f}: ${d.errors[0]!.message}`);
        return d.toJS() as KubeObject | null;
      })
      .filter((o): o is KubeObject => !!o),
  );
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      'boot-server-url': { type: 'string' },
      // history (cli/src/history.ts)
      api: { type: 'string' },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      limit: { type: 'string' },
      depth: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);

  if (command === 'validate') {
    if (!args.length) throw new UsageError('validate needs at least one file');
    const templates = readObjects(args).filter((o) => o.kind === 'AutoinstallTemplate') as (AutoinstallTemplate & KubeObject)[];
    if (!templates.length) throw new UsageError('no AutoinstallTemplate found in the given files');
    let bad = 0;
    for (const t of templates) {
      const lookup = (name: string) => templates.find((x) => x.metadata.name === name && (x.metadata.namespace ?? '') === (t.metadata.namespace ?? ''))?.spec;
      const result = validateTemplateChain(t.metadata.name!, lookup);
      if (result.problems.length) {
        bad++;
        out(`INVALID ${t.metadata.name}`);
        for (const p of result.problems) out(`  ${formatProblem(p)}`);
      } else {
        out(`valid   ${t.metadata.name} (${result.resolved!.chain.join(' -> ')})`);
      }
    }
    return bad ? 1 : 0;
  }

  // history: reads the install-history API or database; needs no kubeconfig (cli/src/history.ts).
  if (command === 'history') {
    const source = [values.api, values['database-url'], values['data-dir']].filter((v) => v !== undefined);
    if (!args[0]) throw new UsageError('history needs a host name');
    if (source.length !== 1) throw new UsageError('history needs exactly one of --api URL, --database-url URL, --data-dir DIR');
    const int = (v: string | undefined, flag: string, min: number, max: number) => {
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v) || +v < min || +v > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}`);
      return +v;
    };
    return runHistory(
      { host: { namespace: values.namespace ?? 'default', name: args[0] }, api: values.api, databaseUrl: values['database-url'], dataDir: values['data-dir'], limit: int(values.limit, '--limit', 1, 1000), depth: int(values.depth, '--depth', 0, 100) },
      out,
    );
  }

  const { client: kube, namespace: defaultNs } = client(values.kubeconfig);
  const namespace = values.namespace ?? defaultNs;

  if (command === 'hosts') {
    const list = await kube.list<BareMetalHost & KubeObject>(BareMetalHostType, values['all-namespaces'] ? {} : { namespace });
    out(hostsTable(list.items, !!values['all-namespaces'], new Date()));
    return 0;
  }

  const name = args[0];
  if (!name) throw new UsageError(`${command} needs a host name`);
  const host = await kube.get<BareMetalHost & KubeObject>(BareMetalHostType, { namespace, name });
  if (!host) throw new UsageError(`BareMetalHost ${namespace}/${name} not found`);

  if (command === 'reinstall') {
    const revision = (host.spec.provisioning?.revision ?? 0) + 1;
    await kube.patch(BareMetalHostType, { namespace, name }, 'merge', { spec: { provisioning: { revision } } });
    out(`BareMetalHost ${namespace}/${name}: spec.provisioning.revision set to ${revision}; it will be reinstalled`);
    if (host.metadata.annotations?.['argocd.argoproj.io/tracking-id'] || host.metadata.labels?.['kustomize.toolkit.fluxcd.io/name']) {
      process.stderr.write('warning: this host is managed by GitOps; set the revision in Git too, or the next sync reverts it\n');
    }
    return 0;
  }

  if (command === 'render') {
    const templates = await kube.list<AutoinstallTemplate & KubeObject>(AutoinstallTemplateType, { namespace });
    const render = makeHostRender({ client: kube, templates: new StaticReader(templates.items) });
    const bootServerURL = values['boot-server-url'] ?? process.env.BOOT_SERVER_URL ?? 'http://BOOT-SERVER';
    const ports = new KubeHostPorts({ client: kube, hosts: new StaticReader([host], { [HOST_MAC_INDEX]: hostMacIndex }), bootConfigs: new StaticReader([]), recorder: { event() {} }, render, bootServerURL });
    const ci = host.status?.currentInstall;
    const token = 'TOKEN';
    const outcome = await ports.render(host, { revision: host.spec.provisioning?.revision ?? 0, attempt: ci?.attempt ?? 1, installationId: ci?.installationId ?? 'preview', token });
    if (!outcome.ok) {
      out(`cannot render ${namespace}/${name}: ${outcome.reason}: ${outcome.message}`);
      return 1;
    }
    const r = outcome.rendered;
    const secretValues = await secretsOf(kube, host);
    const mask = (s: string) => maskSecrets(s, secretValues);
    out(`# template chain: ${r.templateChain.join(' -> ')}\n# content hash: ${r.contentHash}\n# secrets are masked; the per-install token is shown as TOKEN`);
    out(`--- boot.ipxe\n${installScript({ hostRef: `${namespace}/${name}`, revision: host.spec.provisioning?.revision ?? 0, attempt: ci?.attempt ?? 1, kernelURL: assetURL(bootServerURL, r.boot.kernel), initrdURL: assetURL(bootServerURL, r.boot.initrd), kernelArgs: r.kernelArgs })}`);
    out(`--- user-data\n${mask(r.userData)}`);
    out(`--- meta-data\n${mask(r.metaData)}`);
    if (r.networkConfig) out(`--- network-config\n${mask(r.networkConfig)}`);
    if (r.vendorData) out(`--- vendor-data\n${mask(r.vendorData)}`);
    return 0;
  }
  throw new UsageError(`unknown command "${command}"`);
}

async function secretsOf(kube: KubeClient, host: BareMetalHost): Promise<string[]> {
  const values: string[] = [];
  for (const ref of host.spec.secretRefs ?? []) {
    const s = await kube.get<KubeObject & { data?: Record<string, string> }>({ group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true }, { namespace: host.metadata.namespace, name: ref.name });
    for (const [k, v] of Object.entries(s?.data ?? {})) if (!ref.key || ref.key === k) values.push(Buffer.from(v, 'base64').toString('utf8'));
  }
  return values;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err)) {
      process.stderr.write(`anvil: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    process.stderr.write(`anvil: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
